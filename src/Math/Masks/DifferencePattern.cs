namespace RingActors.Math.Masks;

/// <summary>
/// A pattern whose answer depends only on the offset d = query − key (sliding, causal and dilated windows, strided):
/// the mask is constant along every diagonal. That makes classification cheap and exact: for two contiguous (or equally
/// striped) position sets the offsets form one arithmetic progression of at most |Q| + |K| − 1 values, which are tested
/// instead of the |Q|·|K| pairs.
/// </summary>
public abstract class DifferencePattern : StaticPattern
{
    /// <summary>Smallest offset the pattern can allow (its support's lower end).</summary>
    public abstract long MinOffset { get; }

    /// <summary>Largest offset the pattern can allow (its support's upper end; <see cref="long.MaxValue"/> when unbounded).</summary>
    public abstract long MaxOffset { get; }

    /// <summary>True when every offset in [<see cref="MinOffset"/>, <see cref="MaxOffset"/>] is allowed (a band), which settles Full from the ranges alone.</summary>
    protected virtual bool IsBand => false;

    /// <summary>Whether a query may attend a key <paramref name="offset"/> positions before it (negative: after it).</summary>
    public abstract bool AllowsOffset(long offset);

    public sealed override bool Allows(int query, int key) => AllowsOffset((long)query - key);

    public sealed override BlockCoverage Classify(ReadOnlySpan<int> queries, ReadOnlySpan<int> keys) => Classify(queries, keys, causal: false);

    /// <summary>
    /// Exact classification of this pattern, or of its intersection with the causal mask when <paramref name="causal"/> is set
    /// (the causal mask is the offset rule d ≥ 0, so the intersection is again a difference pattern).
    /// </summary>
    internal BlockCoverage Classify(ReadOnlySpan<int> queries, ReadOnlySpan<int> keys, bool causal)
    {
        if (queries.IsEmpty || keys.IsEmpty)
        {
            return BlockCoverage.Empty;
        }

        var lo = causal ? System.Math.Max(MinOffset, 0) : MinOffset;
        var hi = MaxOffset;
        var q = PositionSet.Of(queries);
        var k = PositionSet.Of(keys);
        var minOffset = (long)q.Min - k.Max;
        var maxOffset = (long)q.Max - k.Min;
        if (maxOffset < lo || minOffset > hi)
        {
            return BlockCoverage.Empty;
        }

        var step = PositionSet.CommonStep(q, k);
        if (step > 0)
        {
            // q − k = (qMin − kMin) + step·m for every m in [−(|K|−1), |Q|−1]: each value is reached by some pair.
            var tally = default(CoverageTally);
            var first = (long)q.Min - k.Min - ((long)step * (k.Count - 1));
            var last = (long)q.Max - k.Min;
            for (var offset = first; offset <= last; offset += step)
            {
                tally.Add(offset >= lo && offset <= hi && AllowsOffset(offset));
                if (tally.IsPartial)
                {
                    return BlockCoverage.Partial;
                }
            }

            return tally.Result;
        }

        if (IsBand)
        {
            // Full needs every offset inside the band, and the extreme offsets are always reached.
            if (minOffset >= lo && maxOffset <= hi)
            {
                return BlockCoverage.Full;
            }

            if (k.IsSorted)
            {
                foreach (var query in queries)
                {
                    var index = PositionSet.LowerBound(keys, query - hi);
                    if (index < keys.Length && keys[index] <= query - lo)
                    {
                        return BlockCoverage.Partial;
                    }
                }

                return BlockCoverage.Empty;
            }
        }

        var pairs = default(CoverageTally);
        foreach (var query in queries)
        {
            foreach (var key in keys)
            {
                var offset = (long)query - key;
                pairs.Add(offset >= lo && offset <= hi && AllowsOffset(offset));
                if (pairs.IsPartial)
                {
                    return BlockCoverage.Partial;
                }
            }
        }

        return pairs.Result;
    }
}
