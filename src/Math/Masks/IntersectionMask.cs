namespace RingActors.Math.Masks;

/// <summary>A pair is allowed when both masks allow it (for example causal ∩ a bidirectional pattern).</summary>
public sealed class IntersectionMask(IAttentionMask first, IAttentionMask second) : IAttentionMask
{
    public bool Allows(int query, int key) => first.Allows(query, key) && second.Allows(query, key);

    /// <summary>Each mask's own closed form in turn: a score either refuses stays −∞.</summary>
    public void Refuse(int query, ReadOnlySpan<int> keys, Span<float> scores)
    {
        first.Refuse(query, keys, scores);
        second.Refuse(query, keys, scores);
    }

    public int AttendedKeys(ReadOnlySpan<int> queries, ReadOnlySpan<int> keys) =>
        System.Math.Min(first.AttendedKeys(queries, keys), second.AttendedKeys(queries, keys));

    public BlockCoverage Classify(ReadOnlySpan<int> queries, ReadOnlySpan<int> keys)
    {
        var a = first.Classify(queries, keys);
        if (a == BlockCoverage.Empty)
        {
            return BlockCoverage.Empty;
        }

        var b = second.Classify(queries, keys);
        if (a == BlockCoverage.Partial && b == BlockCoverage.Partial)
        {
            // Causal ∩ a diagonal-constant pattern is again diagonal-constant: classified from offsets, not pairs.
            if (first is CausalMask && second is DifferencePattern afterCausal)
            {
                return afterCausal.Classify(queries, keys, causal: true);
            }

            if (second is CausalMask && first is DifferencePattern beforeCausal)
            {
                return beforeCausal.Classify(queries, keys, causal: true);
            }

            // Two partial masks can still have an empty intersection: only the pairs can tell.
            return Coverage.BruteForce(this, queries, keys);
        }

        return Coverage.Intersect(a, b);
    }

    /// <summary>The intersection of the given masks, ignoring nulls; null when there is none (everything allowed).</summary>
    public static IAttentionMask? Of(IAttentionMask? a, IAttentionMask? b) =>
        a is null ? b : b is null ? a : new IntersectionMask(a, b);
}
