namespace RingActors.Math.Modelling;

/// <summary>
/// Token positions of each device as at most two arithmetic runs, so causal work between a query chunk and a key block
/// is counted in O(1) instead of per token (1,024 devices make a million block pairs). The actors have their own layout
/// class; this one only counts work for the model.
/// </summary>
internal static class LayoutRuns
{
    /// <summary>Tokens start, start + stride, …, count of them.</summary>
    internal readonly record struct Run(long Start, long Count, long Stride);

    public static Run[] For(LayoutKind layout, int seqLen, int devices, int device)
    {
        long n = seqLen, p = devices, r = device;
        switch (layout)
        {
            case LayoutKind.Contiguous:
                return [Range(r * n / p, (r + 1) * n / p)];
            case LayoutKind.Striped:
                return [new Run(r, r < n ? (n - r + p - 1) / p : 0, p)];
            case LayoutKind.Zigzag:
                var chunks = 2 * p;
                var mirror = chunks - 1 - r;
                return [Range(r * n / chunks, (r + 1) * n / chunks), Range(mirror * n / chunks, (mirror + 1) * n / chunks)];
            default:
                throw new ArgumentOutOfRangeException(nameof(layout), layout, "unknown layout");
        }
    }

    public static long Tokens(Run[] runs)
    {
        long total = 0;
        foreach (var run in runs)
        {
            total += run.Count;
        }

        return total;
    }

    /// <summary>Query–key pairs (i, j) with i in <paramref name="queries"/>, j in <paramref name="keys"/> and j ≤ i.</summary>
    public static long CausalPairs(Run[] queries, Run[] keys)
    {
        long total = 0;
        foreach (var q in queries)
        {
            foreach (var k in keys)
            {
                total += CausalPairs(q, k);
            }
        }

        return total;
    }

    private static Run Range(long start, long end) => new(start, end - start, 1);

    private static long CausalPairs(Run q, Run k)
    {
        if (q.Count == 0 || k.Count == 0)
        {
            return 0;
        }

        // A run of one token has no stride of its own: give it the other run's.
        var queryStride = q.Count == 1 ? k.Stride : q.Stride;
        var keyStride = k.Count == 1 ? queryStride : k.Stride;
        if (queryStride == keyStride)
        {
            // Same stride s: q = a + s·u, k = c + s·v, and c + s·v ≤ a + s·u ⇔ v ≤ u + ⌊(a − c)/s⌋ = u + δ.
            // So count Σ_u clamp(u + δ + 1, 0, m): the unit-stride case with queries [0, n) and keys [−δ, −δ + m).
            var delta = FloorDiv(q.Start - k.Start, queryStride);
            return UnitStride(0, q.Count, -delta, k.Count);
        }

        // Different strides never occur for the three layouts; count per query so the answer stays exact anyway.
        long pairs = 0;
        for (long u = 0; u < q.Count; u++)
        {
            var i = q.Start + (q.Stride * u);
            pairs += System.Math.Clamp(FloorDiv(i - k.Start, k.Stride) + 1, 0, k.Count);
        }

        return pairs;
    }

    /// <summary>Σ over i in [a, a + n) of clamp(i − c + 1, 0, m): keys [c, c + m) at or before each query.</summary>
    private static long UnitStride(long a, long n, long c, long m) => Prefix(a + n - c, m) - Prefix(a - c, m);

    /// <summary>Σ over the first t queries from position c of clamp(i − c + 1, 0, m): 1 + 2 + … + m, then m per query.</summary>
    private static long Prefix(long t, long m) =>
        t <= 0 ? 0 : t <= m ? t * (t + 1) / 2 : (m * (m + 1) / 2) + ((t - m) * m);

    private static long FloorDiv(long a, long b) => (a / b) - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0);
}
