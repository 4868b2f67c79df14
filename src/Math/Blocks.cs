using RingActors.Math.Masks;

namespace RingActors.Math;

/// <summary>Head counts and head size shared by a query chunk and the key/value blocks it meets.</summary>
public readonly record struct AttentionHeads(int Batch, int Heads, int KvHeads, int HeadDim)
{
    public static AttentionHeads Of(AttentionShape shape) => new(shape.Batch, shape.Heads, shape.KvHeads, shape.HeadDim);

    public int GroupSize => Heads / KvHeads;

    public AttentionShape WithTokens(int tokens) => new(Batch, Heads, KvHeads, tokens, HeadDim);
}

/// <summary>A device's query rows [Batch, Heads, Tokens, HeadDim] and the global position of each token.</summary>
public sealed record QueryChunk(float[] Data, int[] Positions)
{
    public int Tokens => Positions.Length;
}

/// <summary>A key/value block [Batch, KvHeads, Tokens, HeadDim] each, and the global position of each token.</summary>
public sealed record KeyValueBlock(float[] Keys, float[] Values, int[] Positions)
{
    public int Tokens => Positions.Length;

    /// <summary>Bytes of the K and V payload (float32).</summary>
    public long PayloadBytes => ((long)Keys.Length + Values.Length) * sizeof(float);
}

/// <summary>What to attend and how: causal or not, an optional sparse pattern, the scale (1/√d unless given) and how many threads.</summary>
public sealed record AttentionOptions(bool Causal = false, AttentionPattern? Pattern = null, float? Scale = null, int Threads = 1)
{
    public static readonly AttentionOptions Default = new();

    /// <summary>The combined mask of one (batch, head); null when every pair is allowed.</summary>
    public IAttentionMask? MaskFor(int batch, int head)
    {
        var pattern = Pattern?.MaskFor(batch, head);
        if (Causal && Pattern is { IsCausal: true })
        {
            return pattern;
        }

        return IntersectionMask.Of(Causal ? CausalMask.Instance : null, pattern);
    }

    /// <summary>True when the mask is the same for every head (every pattern but the data-dependent ones).</summary>
    public bool SameMaskForAllHeads => Pattern is null or StaticPattern;
}

/// <summary>Work one blockwise call did: query–key pairs it computed and tiles it computed or skipped.</summary>
public readonly record struct BlockWork(long PairsComputed, long TilesComputed, long TilesSkipped, int HeadDim)
{
    /// <summary>4·d FLOPs per computed pair: 2·d for Q·Kᵀ and 2·d for P·V (ANCHORS.md §1).</summary>
    public double Flops => 4.0 * HeadDim * PairsComputed;

    /// <summary>
    /// 10·d FLOPs per computed pair of the backward (ANCHORS.md §7): Q·Kᵀ recomputed, dO·Vᵀ, Pᵀ·dO, dS·K and dSᵀ·Q, 2·d each.
    /// </summary>
    public double BackwardFlops => 10.0 * HeadDim * PairsComputed;

    public static BlockWork operator +(BlockWork a, BlockWork b) =>
        new(a.PairsComputed + b.PairsComputed, a.TilesComputed + b.TilesComputed, a.TilesSkipped + b.TilesSkipped, System.Math.Max(a.HeadDim, b.HeadDim));
}
