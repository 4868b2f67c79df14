namespace RingActors.Math.Masks;

/// <summary>
/// Sliding window (Longformer; ANCHORS.md §4) of width w. Bidirectional: query i attends key j when |i − j| ≤ ⌊w/2⌋.
/// Causal: when 0 ≤ i − j &lt; w (the query and the w − 1 keys before it).
/// </summary>
public sealed class SlidingWindowPattern : DifferencePattern
{
    public SlidingWindowPattern(int window, bool causal = false)
    {
        Guard.Positive(window, nameof(window));
        Window = window;
        Causal = causal;
    }

    /// <summary>The window width w.</summary>
    public int Window { get; }

    /// <summary>One-sided (0 ≤ i − j &lt; w) rather than centred (|i − j| ≤ ⌊w/2⌋).</summary>
    public bool Causal { get; }

    public override string Name => Causal ? $"causal-window:{Window}" : $"window:{Window}";

    public override bool IsCausal => Causal;

    public override long MinOffset => Causal ? 0 : -(Window / 2);

    public override long MaxOffset => Causal ? Window - 1 : Window / 2;

    protected override bool IsBand => true;

    public override bool AllowsOffset(long offset) => offset >= MinOffset && offset <= MaxOffset;
}
