namespace RingActors.Math.Masks;

/// <summary>Causal attention: a query attends keys at its own position or earlier.</summary>
public sealed class CausalMask : IAttentionMask
{
    public static readonly CausalMask Instance = new();

    private CausalMask()
    {
    }

    public bool Allows(int query, int key) => key <= query;

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
