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

    /// <summary>Bytes the pattern holds beyond its object header: key tables, block layouts, per-head masks.</summary>
    public virtual long MemoryBytes => 0;

    /// <summary>The mask of one (batch, query head).</summary>
    public abstract IAttentionMask MaskFor(int batch, int head);

    /// <summary>
    /// Throws an <see cref="ArgumentException"/> when the pattern was built for a different problem than <paramref name="shape"/>
    /// (a random table or a block layout for another length, top-k masks for other heads). Patterns that hold for any length accept every shape.
    /// </summary>
    public virtual void Validate(AttentionShape shape)
    {
    }

    /// <summary>Throws when a pattern built for <paramref name="builtFor"/> tokens meets a problem of another length.</summary>
    protected void RequireSeqLen(AttentionShape shape, int builtFor)
    {
        if (shape.SeqLen != builtFor)
        {
            throw new ArgumentException($"pattern {Name} was built for {builtFor} tokens, the problem has {shape.SeqLen}", nameof(shape));
        }
    }

    public override string ToString() => Name;
}

/// <summary>A pattern that is the same for every head and is its own mask.</summary>
public abstract class StaticPattern : AttentionPattern, IAttentionMask
{
    public abstract bool Allows(int query, int key);

    /// <summary>Exact by default; patterns override it with a cheaper exact rule where one exists.</summary>
    public virtual BlockCoverage Classify(ReadOnlySpan<int> queries, ReadOnlySpan<int> keys) => Coverage.BruteForce(this, queries, keys);

    public sealed override IAttentionMask MaskFor(int batch, int head) => this;
}
