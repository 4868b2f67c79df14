namespace RingActors.Math.Masks;

/// <summary>
/// A sparse attention pattern (ANCHORS.md §4). Static patterns are the same for every head;
/// data-dependent ones (top-k) give each (batch, head) its own mask.
/// </summary>
public abstract class AttentionPattern
{
    /// <summary>The pattern as a user would write it on the command line, e.g. <c>window:256</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Whether the pattern allows only keys at or before the query (so a causal mask adds nothing).</summary>
    public virtual bool IsCausal => false;

    /// <summary>The mask of one (batch, query head).</summary>
    public abstract IAttentionMask MaskFor(int batch, int head);
}

/// <summary>A pattern that is the same for every head and is its own mask.</summary>
public abstract class StaticPattern : AttentionPattern, IAttentionMask
{
    public abstract bool Allows(int query, int key);

    /// <summary>Exact by default; patterns override it with a cheaper exact rule where one exists.</summary>
    public virtual BlockCoverage Classify(ReadOnlySpan<int> queries, ReadOnlySpan<int> keys) => Coverage.BruteForce(this, queries, keys);

    public sealed override IAttentionMask MaskFor(int batch, int head) => this;
}
