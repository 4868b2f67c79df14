namespace RingActors.Math.Verification;

/// <summary>
/// What a check against <see cref="TiledReference"/> found: over the rows checked, the output's error (fp32 against the
/// float64 reference), the largest lse difference, and the worst single row.
/// </summary>
/// <param name="RowsChecked">Rows computed exactly and compared.</param>
/// <param name="EmptyRows">Rows among them that attend nothing (reference lse −∞, output zeros).</param>
/// <param name="Pairs">Query–key pairs the reference computed (whole leaf tiles).</param>
/// <param name="WorstRow">Global row index ((b·H + h)·N + i) of the row with the largest relative error.</param>
/// <param name="WorstRowError">That row's ‖a − e‖ / ‖e‖ (∞ when a row that attends nothing is not zero, or a value is not finite).</param>
public sealed record VerificationResult(long RowsChecked, long EmptyRows, long Pairs, ErrorMetrics Error, double LseMaxAbsError, long WorstRow, double WorstRowError)
{
    /// <summary>
    /// A row whose own relative error exceeds this is wrong whatever the whole output's error: fp32 round-off stays orders of
    /// magnitude below it, while one wrong row among millions hardly moves the Frobenius error.
    /// </summary>
    public const double RowTolerance = 1e-3;

    /// <summary>True when the whole error is within <paramref name="tolerance"/> (relative) and no row is off by more than <see cref="RowTolerance"/>.</summary>
    public bool Passes(double tolerance) => Error.RelativeError <= tolerance && WorstRowError <= RowTolerance;
}

/// <summary>Compares an attention output with <see cref="TiledReference"/>, every row or a <see cref="RowSample"/>, streaming: nothing N×N, no reference copy of the output.</summary>
public static class ReferenceCheck
{
    /// <summary>
    /// Checks <paramref name="actual"/> ([B, H, N, d]) and, when given, <paramref name="actualLse"/> ([B, H, N]) against the
    /// exact attention of <paramref name="input"/> under <paramref name="options"/>' mask, on all rows
    /// (<paramref name="sample"/> null) or the sampled ones, on <paramref name="threads"/> threads.
    /// </summary>
    public static VerificationResult Verify(AttentionInput input, AttentionOptions options, float[] actual, float[]? actualLse, RowSample? sample, int threads)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(actual);
        var shape = input.Shape;
        Guard.Length(actual, shape.QueryLength, nameof(actual));
        if (actualLse is not null)
        {
            Guard.Length(actualLse, (long)shape.Batch * shape.Heads * shape.SeqLen, nameof(actualLse));
        }

        if (threads < 1)
        {
            throw new ArgumentException($"threads must be ≥ 1, got {threads}", nameof(threads));
        }

        var items = WorkItems(shape, sample);
        var keys = TiledReference.Iota(shape.SeqLen);
        var d = shape.HeadDim;
        var total = new Sums();
        var gate = new object();
        Parallel.ForEach(
            items,
            new ParallelOptions { MaxDegreeOfParallelism = threads },
            () => (Workspace: new TiledReference.Workspace(d, TiledReference.RowsPerGroup), Output: new double[TiledReference.RowsPerGroup * d], Lse: new double[TiledReference.RowsPerGroup], Sums: new Sums()),
            (item, _, local) =>
            {
                var rows = item.Positions.Length;
                var output = local.Output.AsSpan(0, rows * d);
                var lse = local.Lse.AsSpan(0, rows);
                local.Sums.Pairs += TiledReference.Group(input, options, item.Batch, item.Head, item.Positions, keys, local.Workspace, output, lse);
                var head = ((long)item.Batch * shape.Heads) + item.Head;
                for (var r = 0; r < rows; r++)
                {
                    var row = (head * shape.SeqLen) + item.Positions[r];
                    local.Sums.Add(row, actual.AsSpan((int)(row * d), d), output.Slice(r * d, d), actualLse?[row], lse[r]);
                }

                return local;
            },
            local =>
            {
                lock (gate)
                {
                    total.Merge(local.Sums);
                }
            });

        return new VerificationResult(
            total.Rows, total.Empty, total.Pairs,
            ErrorMetrics.FromSums(total.MaxAbs, total.DiffSquares, total.ExpectedSquares, total.ActualSquares, total.Dot),
            total.LseMaxAbs, total.WorstRow, total.WorstRowError);
    }

    /// <summary>Groups of at most <see cref="TiledReference.RowsPerGroup"/> sorted positions of one (batch, head).</summary>
    private static List<WorkItem> WorkItems(AttentionShape shape, RowSample? sample)
    {
        var n = shape.SeqLen;
        var items = new List<WorkItem>();
        if (sample is null)
        {
            for (var b = 0; b < shape.Batch; b++)
            {
                for (var h = 0; h < shape.Heads; h++)
                {
                    for (var start = 0; start < n; start += TiledReference.RowsPerGroup)
                    {
                        var count = System.Math.Min(TiledReference.RowsPerGroup, n - start);
                        items.Add(new WorkItem(b, h, Enumerable.Range(start, count).ToArray()));
                    }
                }
            }

            return items;
        }

        var rows = sample.Rows;
        for (var i = 0; i < rows.Count;)
        {
            var head = rows[i] / n;
            var group = new List<int>();
            while (i < rows.Count && rows[i] / n == head && group.Count < TiledReference.RowsPerGroup)
            {
                group.Add((int)(rows[i] % n));
                i++;
            }

            items.Add(new WorkItem((int)(head / shape.Heads), (int)(head % shape.Heads), group.ToArray()));
        }

        return items;
    }

    private sealed record WorkItem(int Batch, int Head, int[] Positions);

    /// <summary>Running sums of one thread's comparison; merged at the end.</summary>
    private sealed class Sums
    {
        public long Rows { get; private set; }

        public long Empty { get; private set; }

        public long Pairs { get; set; }

        public double MaxAbs { get; private set; }

        public double DiffSquares { get; private set; }

        public double ExpectedSquares { get; private set; }

        public double ActualSquares { get; private set; }

        public double Dot { get; private set; }

        public double LseMaxAbs { get; private set; }

        public long WorstRow { get; private set; } = -1;

        public double WorstRowError { get; private set; }

        public void Add(long row, ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, float? actualLse, double expectedLse)
        {
            Rows++;
            Empty += double.IsNegativeInfinity(expectedLse) ? 1 : 0;
            double diff2 = 0, expected2 = 0, finite = 1;
            for (var c = 0; c < actual.Length; c++)
            {
                double a = actual[c], e = expected[c];
                if (!double.IsFinite(a))
                {
                    finite = 0; // a NaN or ∞ is never a number in a report: it is an infinite error
                    break;
                }

                var diff = a - e;
                MaxAbs = System.Math.Max(MaxAbs, System.Math.Abs(diff));
                diff2 += diff * diff;
                expected2 += e * e;
                ActualSquares += a * a;
                Dot += a * e;
            }

            var rowError = finite == 0 ? double.PositiveInfinity
                : expected2 > 0 ? System.Math.Sqrt(diff2 / expected2)
                : diff2 > 0 ? double.PositiveInfinity : 0;
            if (finite == 0)
            {
                MaxAbs = double.PositiveInfinity;
                diff2 = double.PositiveInfinity;
            }

            DiffSquares += diff2;
            ExpectedSquares += expected2;
            if (actualLse is { } lse)
            {
                var lseError = double.IsNegativeInfinity(expectedLse) && float.IsNegativeInfinity(lse) ? 0
                    : double.IsFinite(expectedLse) && float.IsFinite(lse) ? System.Math.Abs(lse - expectedLse)
                    : double.PositiveInfinity;
                LseMaxAbs = System.Math.Max(LseMaxAbs, lseError);
            }

            if (WorstRow < 0 || rowError > WorstRowError)
            {
                WorstRow = row;
                WorstRowError = rowError;
            }
        }

        public void Merge(Sums other)
        {
            Rows += other.Rows;
            Empty += other.Empty;
            Pairs += other.Pairs;
            MaxAbs = System.Math.Max(MaxAbs, other.MaxAbs);
            DiffSquares += other.DiffSquares;
            ExpectedSquares += other.ExpectedSquares;
            ActualSquares += other.ActualSquares;
            Dot += other.Dot;
            LseMaxAbs = System.Math.Max(LseMaxAbs, other.LseMaxAbs);
            if (other.WorstRow >= 0 && (WorstRow < 0 || other.WorstRowError > WorstRowError))
            {
                WorstRow = other.WorstRow;
                WorstRowError = other.WorstRowError;
            }
        }
    }
}
