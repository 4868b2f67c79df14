namespace RingActors.Math.Masks;

/// <summary>
/// Dilated sliding window (Longformer; ANCHORS.md §4), width w and dilation δ: query i attends key j when
/// |i − j| ≤ ⌊w/2⌋·δ and (i − j) mod δ = 0, so it reaches δ times as far with the same number of keys.
/// </summary>
public sealed class DilatedWindowPattern : DifferencePattern
{
    public DilatedWindowPattern(int window, int dilation)
    {
        Guard.Positive(window, nameof(window));
        Guard.Positive(dilation, nameof(dilation));
        Window = window;
        Dilation = dilation;
        Reach = (long)(window / 2) * dilation;
    }

    public int Window { get; }

    public int Dilation { get; }

    /// <summary>The largest offset attended: ⌊w/2⌋·δ.</summary>
    public long Reach { get; }

    public override string Name => $"dilated:{Window}:{Dilation}";

    public override long MinOffset => -Reach;

    public override long MaxOffset => Reach;

    protected override bool IsBand => Dilation == 1;

    public override bool AllowsOffset(long offset) => offset >= -Reach && offset <= Reach && offset % Dilation == 0;
}
