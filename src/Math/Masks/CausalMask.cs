namespace RingActors.Math.Masks;

/// <summary>Causal attention: a query attends keys at its own position or earlier.</summary>
public sealed class CausalMask : IAttentionMask
{
    public static readonly CausalMask Instance = new();

    private CausalMask()
    {
    }

    public bool Allows(int query, int key) => key <= query;

    /// <summary>The same test as <see cref="Allows"/>, without an interface call per element.</summary>
    public void Refuse(int query, ReadOnlySpan<int> keys, Span<float> scores)
    {
        for (var j = 0; j < keys.Length; j++)
        {
            if (keys[j] > query)
            {
                scores[j] = float.NegativeInfinity;
            }
        }
    }

    /// <summary>
    /// The keys up to the last one at or before the latest query: on the diagonal of a contiguous layout a 64-query tile
    /// needs only half of a 128-key tile.
    /// </summary>
    public int AttendedKeys(ReadOnlySpan<int> queries, ReadOnlySpan<int> keys)
    {
        if (queries.IsEmpty)
        {
            return 0;
        }

        var (_, latest) = Coverage.Range(queries);
        var count = keys.Length;
        while (count > 0 && keys[count - 1] > latest)
        {
            count--;
        }

        return count;
    }

    /// <summary>Decided from the ranges alone: O(block) instead of O(block²).</summary>
    public BlockCoverage Classify(ReadOnlySpan<int> queries, ReadOnlySpan<int> keys)
    {
        if (queries.IsEmpty || keys.IsEmpty)
        {
            return BlockCoverage.Empty;
        }

        var (qMin, qMax) = Coverage.Range(queries);
        var (kMin, kMax) = Coverage.Range(keys);
        if (kMax <= qMin)
        {
            return BlockCoverage.Full;
        }

        return kMin > qMax ? BlockCoverage.Empty : BlockCoverage.Partial;
    }
}
