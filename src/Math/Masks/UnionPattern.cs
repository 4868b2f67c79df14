using System.Collections.Concurrent;

namespace RingActors.Math.Masks;

/// <summary>A pair is allowed when any of the masks allows it (for example a window plus global tokens).</summary>
public sealed class UnionMask : IAttentionMask
{
    private readonly IAttentionMask[] _members;

    public UnionMask(IReadOnlyList<IAttentionMask> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0)
        {
            throw new ArgumentException("a union needs at least one mask", nameof(members));
        }

        _members = [.. members];
    }

    public bool Allows(int query, int key)
    {
        foreach (var member in _members)
        {
            if (member.Allows(query, key))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Exact: Full when a member is Full, Empty when all are Empty, the member's answer when only one is not Empty;
    /// two or more Partial members may still cover every pair together, which only the pairs can tell.
    /// </summary>
    public BlockCoverage Classify(ReadOnlySpan<int> queries, ReadOnlySpan<int> keys)
    {
        var partial = 0;
        foreach (var member in _members)
        {
            switch (member.Classify(queries, keys))
            {
                case BlockCoverage.Full:
                    return BlockCoverage.Full;
                case BlockCoverage.Partial:
                    partial++;
                    break;
            }
        }

        return partial switch
        {
            0 => BlockCoverage.Empty,
            1 => BlockCoverage.Partial,
            _ => Coverage.BruteForce(this, queries, keys),
        };
    }
}

/// <summary>
/// The union of static patterns (ANCHORS.md §4: BigBird-style mixtures such as window + global + random): a pair is allowed
/// when any member allows it. <see cref="Of"/> builds the right union for any members, data-dependent ones included.
/// </summary>
public sealed class UnionPattern : StaticPattern
{
    private readonly UnionMask _mask;

    public UnionPattern(IReadOnlyList<StaticPattern> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        _mask = new UnionMask(members);
        Members = [.. members];
    }

    public IReadOnlyList<StaticPattern> Members { get; }

    public override string Name => UnionName(Members);

    public override bool IsCausal => Members.All(member => member.IsCausal);

    public override long MemoryBytes => Members.Sum(member => member.MemoryBytes);

    public override bool Allows(int query, int key) => _mask.Allows(query, key);

    public override BlockCoverage Classify(ReadOnlySpan<int> queries, ReadOnlySpan<int> keys) => _mask.Classify(queries, keys);

    public override void Validate(AttentionShape shape)
    {
        foreach (var member in Members)
        {
            member.Validate(shape);
        }
    }

    /// <summary>
    /// The union of <paramref name="members"/>: a <see cref="UnionPattern"/> (one mask for every head) when all are static,
    /// a <see cref="HeadwiseUnionPattern"/> otherwise; a single member is returned as it is.
    /// </summary>
    public static AttentionPattern Of(IReadOnlyList<AttentionPattern> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0)
        {
            throw new ArgumentException("a union needs at least one pattern", nameof(members));
        }

        if (members.Count == 1)
        {
            return members[0];
        }

        return members.All(member => member is StaticPattern)
            ? new UnionPattern([.. members.Cast<StaticPattern>()])
            : new HeadwiseUnionPattern(members);
    }

    internal static string UnionName(IEnumerable<AttentionPattern> members) => "union:" + string.Join('+', members.Select(member => member.Name));
}

/// <summary>The union of patterns of which some are data-dependent: each (batch, head) gets the union of the members' masks.</summary>
public sealed class HeadwiseUnionPattern : AttentionPattern
{
    // The kernel asks for a head's mask once per query tile: build each union once.
    private readonly ConcurrentDictionary<(int Batch, int Head), UnionMask> _masks = new();

    public HeadwiseUnionPattern(IReadOnlyList<AttentionPattern> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0)
        {
            throw new ArgumentException("a union needs at least one pattern", nameof(members));
        }

        Members = [.. members];
    }

    public IReadOnlyList<AttentionPattern> Members { get; }

    public override string Name => UnionPattern.UnionName(Members);

    public override bool IsCausal => Members.All(member => member.IsCausal);

    public override long MemoryBytes => Members.Sum(member => member.MemoryBytes);

    public override IAttentionMask MaskFor(int batch, int head) =>
        _masks.GetOrAdd((batch, head), key => new UnionMask([.. Members.Select(member => member.MaskFor(key.Batch, key.Head))]));

    public override void Validate(AttentionShape shape)
    {
        foreach (var member in Members)
        {
            member.Validate(shape);
        }
    }
}
