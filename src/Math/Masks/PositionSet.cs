namespace RingActors.Math.Masks;

/// <summary>
/// What a mask's fast classification needs to know about a set of positions, found in one pass:
/// its range, whether it is sorted, and whether it is an increasing arithmetic progression
/// (contiguous chunks have step 1, striped chunks step P; a single position is a progression of any step).
/// </summary>
internal readonly struct PositionSet
{
    private PositionSet(int count, int min, int max, bool sorted, int step)
    {
        Count = count;
        Min = min;
        Max = max;
        IsSorted = sorted;
        Step = step;
    }

    public int Count { get; }

    public int Min { get; }

    public int Max { get; }

    /// <summary>Non-decreasing order.</summary>
    public bool IsSorted { get; }

    /// <summary>The common positive step of an arithmetic progression; 0 when the set is not one (or has one element).</summary>
    public int Step { get; }

    public bool IsProgression => Count == 1 || Step > 0;

    public bool IsContiguous => Count == 1 || Step == 1;

    public static PositionSet Of(ReadOnlySpan<int> positions)
    {
        if (positions.IsEmpty)
        {
            return default;
        }

        int min = positions[0], max = positions[0];
        var sorted = true;
        var step = positions.Length > 1 ? positions[1] - positions[0] : 0;
        var progression = step > 0;
        for (var i = 1; i < positions.Length; i++)
        {
            var p = positions[i];
            var gap = p - positions[i - 1];
            sorted &= gap >= 0;
            progression &= gap == step;
            min = System.Math.Min(min, p);
            max = System.Math.Max(max, p);
        }

        return new PositionSet(positions.Length, min, max, sorted, progression ? step : 0);
    }

    /// <summary>
    /// The common step of two progressions, so that q − k runs over one progression of differences; 0 when there is none.
    /// </summary>
    public static int CommonStep(PositionSet a, PositionSet b)
    {
        if (!a.IsProgression || !b.IsProgression)
        {
            return 0;
        }

        if (a.Count == 1)
        {
            return b.Count == 1 ? 1 : b.Step;
        }

        return b.Count == 1 || a.Step == b.Step ? a.Step : 0;
    }

    /// <summary>Index of the first element ≥ <paramref name="value"/> in a sorted span.</summary>
    public static int LowerBound(ReadOnlySpan<int> sorted, long value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (sorted[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>Index of the first element &gt; <paramref name="value"/> in a sorted span.</summary>
    public static int UpperBound(ReadOnlySpan<int> sorted, long value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (sorted[mid] <= value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>Number of distinct values in a sorted span.</summary>
    public static int DistinctSorted(ReadOnlySpan<int> sorted)
    {
        var distinct = sorted.IsEmpty ? 0 : 1;
        for (var i = 1; i < sorted.Length; i++)
        {
            if (sorted[i] != sorted[i - 1])
            {
                distinct++;
            }
        }

        return distinct;
    }
}

/// <summary>
/// Tracks whether an allowed and a refused pair have been seen, so exact classifications can stop as soon as the answer is Partial.
/// </summary>
internal struct CoverageTally
{
    public bool AnyAllowed;
    public bool AnyRefused;

    public readonly bool IsPartial => AnyAllowed && AnyRefused;

    public readonly BlockCoverage Result => AnyAllowed ? (AnyRefused ? BlockCoverage.Partial : BlockCoverage.Full) : BlockCoverage.Empty;

    public void Add(bool allowed)
    {
        if (allowed)
        {
            AnyAllowed = true;
        }
        else
        {
            AnyRefused = true;
        }
    }
}

/// <summary>
/// SplitMix64 (Steele, Lea &amp; Flood 2014): a tiny seeded generator, so random patterns depend only on (seed, row) and never on
/// how the sequence is split or in which order rows are drawn.
/// </summary>
internal struct SplitMix64
{
    private ulong _state;

    public SplitMix64(int seed, int stream, int salt)
    {
        _state = ((ulong)(uint)seed << 32) ^ (uint)stream ^ ((ulong)(uint)salt * 0x9E3779B97F4A7C15UL);
        Next();
    }

    public ulong Next()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A value in [0, <paramref name="bound"/>) (Lemire's multiply-shift; its bias is below 2⁻³² for any int bound).</summary>
    public int NextInt(int bound) => (int)(((Next() >> 32) * (ulong)bound) >> 32);

    /// <summary>
    /// Fills <paramref name="chosen"/> with <c>chosen.Length</c> distinct values from [0, <paramref name="range"/>), sorted
    /// (Floyd's algorithm: one draw per value, no rejection loop).
    /// </summary>
    public void Sample(int range, Span<int> chosen, HashSet<int> scratch)
    {
        scratch.Clear();
        var count = chosen.Length;
        var n = 0;
        for (var j = range - count; j < range; j++)
        {
            var t = NextInt(j + 1);
            chosen[n++] = scratch.Add(t) ? t : AddReturning(scratch, j);
        }

        chosen.Sort();
    }

    private static int AddReturning(HashSet<int> set, int value)
    {
        set.Add(value);
        return value;
    }
}
