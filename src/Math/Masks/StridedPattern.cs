namespace RingActors.Math.Masks;

/// <summary>
/// Strided pattern of the Sparse Transformer (Child et al. 2019; ANCHORS.md §4), causal, stride l (≈ √N by default):
/// query i attends key j ≤ i when i − l &lt; j (the previous l keys) or (i − j) mod l = 0 (every l-th key before it).
/// </summary>
public sealed class StridedPattern : DifferencePattern
{
    public StridedPattern(int stride)
    {
        Guard.Positive(stride, nameof(stride));
        Stride = stride;
    }

    public int Stride { get; }

    public override string Name => $"strided:{Stride}";

    public override bool IsCausal => true;

    public override long MinOffset => 0;

    public override long MaxOffset => long.MaxValue;

    public override bool AllowsOffset(long offset) => offset >= 0 && (offset < Stride || offset % Stride == 0);

    /// <summary>The Sparse Transformer's choice l ≈ √N.</summary>
    public static int DefaultStride(int seqLen) => System.Math.Max(1, (int)System.Math.Round(System.Math.Sqrt(seqLen)));
}
