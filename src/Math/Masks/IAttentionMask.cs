using System.Numerics.Tensors;

namespace RingActors.Math.Masks;

/// <summary>How much of a (query block, key block) pair a mask lets through.</summary>
public enum BlockCoverage
{
    /// <summary>No query in the block may attend any key in the block: the pair is skipped.</summary>
    Empty,

    /// <summary>Some pairs are allowed: computed with a per-element mask.</summary>
    Partial,

    /// <summary>Every pair is allowed: computed with no per-element mask.</summary>
    Full,
}

/// <summary>
/// Which keys a query may attend, by global token position, so the answer holds however the sequence is split over devices.
/// </summary>
public interface IAttentionMask
{
    /// <summary>Whether the query at global position <paramref name="query"/> may attend the key at <paramref name="key"/>.</summary>
    bool Allows(int query, int key);

    /// <summary>
    /// Classifies the pair of position sets exactly: Full when every pair is allowed, Empty when none is, Partial otherwise.
    /// </summary>
    BlockCoverage Classify(ReadOnlySpan<int> queries, ReadOnlySpan<int> keys);

    /// <summary>
    /// Sets <paramref name="scores"/>[j] to −∞ for every key j the query at <paramref name="query"/> may not attend: the
    /// kernels' per-element mask on a partial tile, one call per row. A mask with a closed form overrides it to test
    /// without a call per element.
    /// </summary>
    void Refuse(int query, ReadOnlySpan<int> keys, Span<float> scores)
    {
        for (var j = 0; j < keys.Length; j++)
        {
            if (!Allows(query, keys[j]))
            {
                scores[j] = float.NegativeInfinity;
            }
        }
    }

    /// <summary>
    /// How many of <paramref name="keys"/>, from the first, a tile must compute for <paramref name="queries"/>: every key
    /// after them is refused to every one of the queries. The kernels trim a partial tile's columns to it. All of them,
    /// unless a mask knows better.
    /// </summary>
    int AttendedKeys(ReadOnlySpan<int> queries, ReadOnlySpan<int> keys) => keys.Length;
}

/// <summary>Shared helpers for masks.</summary>
public static class Coverage
{
    /// <summary>Exact classification by testing every pair, stopping as soon as both an allowed and a refused pair are seen.</summary>
    public static BlockCoverage BruteForce(IAttentionMask mask, ReadOnlySpan<int> queries, ReadOnlySpan<int> keys)
    {
        if (queries.IsEmpty || keys.IsEmpty)
        {
            return BlockCoverage.Empty;
        }

        var anyAllowed = false;
        var anyRefused = false;
        foreach (var q in queries)
        {
            foreach (var k in keys)
            {
                if (mask.Allows(q, k))
                {
                    anyAllowed = true;
                }
                else
                {
                    anyRefused = true;
                }

                if (anyAllowed && anyRefused)
                {
                    return BlockCoverage.Partial;
                }
            }
        }

        return anyAllowed ? BlockCoverage.Full : BlockCoverage.Empty;
    }

    /// <summary>
    /// Pairs <paramref name="mask"/> allows between two position sets, counted exactly tile by tile as the kernel sees them:
    /// tiles it classifies full or empty count at once, partial tiles pair by pair.
    /// </summary>
    public static long CountAllowed(IAttentionMask mask, ReadOnlySpan<int> queries, ReadOnlySpan<int> keys)
    {
        long count = 0;
        for (var q0 = 0; q0 < queries.Length; q0 += BlockwiseAttention.QueryTile)
        {
            var q = queries.Slice(q0, System.Math.Min(BlockwiseAttention.QueryTile, queries.Length - q0));
            for (var k0 = 0; k0 < keys.Length; k0 += BlockwiseAttention.KeyTile)
            {
                var k = keys.Slice(k0, System.Math.Min(BlockwiseAttention.KeyTile, keys.Length - k0));
                switch (mask.Classify(q, k))
                {
                    case BlockCoverage.Full:
                        count += (long)q.Length * k.Length;
                        break;
                    case BlockCoverage.Partial:
                        foreach (var query in q)
                        {
                            foreach (var key in k)
                            {
                                count += mask.Allows(query, key) ? 1 : 0;
                            }
                        }

                        break;
                }
            }
        }

        return count;
    }

    /// <summary>Smallest and largest value of a non-empty span.</summary>
    public static (int Min, int Max) Range(ReadOnlySpan<int> positions) =>
        (TensorPrimitives.Min(positions), TensorPrimitives.Max(positions));

    /// <summary>The intersection of two coverages of the same pair of blocks, without testing pairs when either answer settles it.</summary>
    public static BlockCoverage Intersect(BlockCoverage a, BlockCoverage b) =>
        a == BlockCoverage.Empty || b == BlockCoverage.Empty ? BlockCoverage.Empty
        : a == BlockCoverage.Full ? b
        : b == BlockCoverage.Full ? a
        : BlockCoverage.Partial;
}
