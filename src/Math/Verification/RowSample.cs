using RingActors.Math.Masks;

namespace RingActors.Math.Verification;

/// <summary>
/// The query rows a <c>rows:K</c> check computes exactly, as global row indices ((b·H + h)·N + i), sorted and distinct.
/// Chosen so that the places where a ring goes wrong are always in it: the first and last token of the sequence, every
/// boundary the caller names (each device's first, middle and last token), rows that attend to nothing (found by a bounded
/// search), and seeded uniform rows for the rest.
/// </summary>
public sealed class RowSample
{
    /// <summary>Classify calls of one key-range size N the search for empty rows may spend, in total (≈ 2²⁶ pair tests).</summary>
    private const long EmptySearchBudget = 1L << 26;

    private RowSample(long[] rows, int emptyRows)
    {
        Rows = rows;
        EmptyRows = emptyRows;
    }

    /// <summary>Sorted, distinct global row indices.</summary>
    public IReadOnlyList<long> Rows { get; }

    /// <summary>Rows the search for rows that attend nothing added (the check counts every empty row it meets).</summary>
    public int EmptyRows { get; }

    /// <summary>
    /// Chooses <paramref name="count"/> rows (all of them when the problem has fewer) of a problem under
    /// <paramref name="options"/>' mask, seeded by <paramref name="seed"/>; <paramref name="boundaries"/> are positions that
    /// must be sampled (in every (batch, head) when that takes at most half the sample, else in one seeded (batch, head) each).
    /// </summary>
    public static RowSample Choose(AttentionShape shape, AttentionOptions options, int count, int seed, IEnumerable<int> boundaries)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(boundaries);
        if (count < 1)
        {
            throw new ArgumentException($"a row sample needs at least one row, got {count}", nameof(count));
        }

        var n = shape.SeqLen;
        var heads = (long)shape.Batch * shape.Heads;
        var total = heads * n;
        if (count >= total)
        {
            var all = new long[total];
            for (var r = 0L; r < total; r++)
            {
                all[r] = r;
            }

            return new RowSample(all, 0);
        }

        var random = new Random(seed);
        var chosen = new HashSet<long>();
        void Add(long head, int position)
        {
            if (chosen.Count < count && (uint)position < (uint)n)
            {
                chosen.Add((head * n) + position);
            }
        }

        foreach (var head in new[] { 0L, heads - 1 })
        {
            Add(head, 0);
            Add(head, n - 1);
        }

        // Boundaries in every (batch, head) while that takes at most half the sample, else each in one seeded (batch, head).
        var named = boundaries.Distinct().ToArray();
        var everyHead = heads * named.Length <= count / 2;
        foreach (var position in named)
        {
            for (var head = 0L; head < (everyHead ? heads : 1); head++)
            {
                Add(everyHead ? head : random.NextInt64(heads), position);
            }
        }

        // Rows that attend nothing are where merges shipped NaN (ANCHORS.md §2): one Classify against all keys tells.
        var emptyFound = 0;
        var keys = TiledReference.Iota(n);
        var candidates = System.Math.Min(total, System.Math.Max(64, EmptySearchBudget / n));
        var emptyWanted = System.Math.Max(1, count / 8);
        for (var c = 0L; c < candidates && emptyFound < emptyWanted && chosen.Count < count; c++)
        {
            // The first candidates are the first tokens (masks that leave rows empty mostly do so at the start), then seeded ones.
            var row = c < candidates / 2 ? c : random.NextInt64(total);
            var mask = options.MaskFor((int)(row / n / shape.Heads), (int)(row / n % shape.Heads));
            if (mask is not null && mask.Classify([(int)(row % n)], keys) == BlockCoverage.Empty && chosen.Add(row))
            {
                emptyFound++;
            }
        }

        while (chosen.Count < count)
        {
            chosen.Add(random.NextInt64(total));
        }

        var rows = chosen.ToArray();
        Array.Sort(rows);
        return new RowSample(rows, emptyFound);
    }
}
