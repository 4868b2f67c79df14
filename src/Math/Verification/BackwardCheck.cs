namespace RingActors.Math.Verification;

/// <summary>
/// How far gradients are from the float64 oracle: dQ, dK and dV each as <see cref="ErrorMetrics"/>, over the rows checked
/// (all of them for the dense oracle; sampled query rows for dQ and sampled key rows for dK and dV otherwise).
/// </summary>
/// <param name="Method">"dense" (<see cref="ReferenceBackward"/>) or "sampled" (<see cref="BackwardCheck.Sampled"/>).</param>
public sealed record GradientErrors(string Method, ErrorMetrics Queries, ErrorMetrics Keys, ErrorMetrics Values, long QueryRowsChecked, long KeyRowsChecked);

/// <summary>
/// Checks dQ, dK and dV against float64 references: the dense oracle <see cref="ReferenceBackward"/> where its
/// O(B·H·N²·d) scalar loops are affordable, else a sampled float64 reference that holds O(B·H·N) beyond its inputs.
/// </summary>
public static class BackwardCheck
{
    /// <summary>B·H·N²·d up to which <see cref="ReferenceBackward"/> (single thread, scalar) is used: a few seconds.</summary>
    public const long DenseBudget = 1L << 28;

    /// <summary>Whether the dense oracle is affordable for <paramref name="shape"/> (<see cref="DenseBudget"/>).</summary>
    public static bool DenseAffordable(AttentionShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return (double)shape.Batch * shape.Heads * shape.SeqLen * shape.SeqLen * shape.HeadDim <= DenseBudget;
    }

    /// <summary>Every element of <paramref name="actual"/> against <see cref="ReferenceBackward.Compute"/> for output gradient <paramref name="outputGradient"/>.</summary>
    public static GradientErrors Dense(AttentionInput input, AttentionOptions options, float[] outputGradient, AttentionGradients actual)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(actual);
        return Compare(input.Shape, ReferenceBackward.Compute(input, outputGradient, options), actual);
    }

    /// <summary>Every element of <paramref name="actual"/> against an oracle computed once (<see cref="ReferenceBackward.Compute"/>), e.g. for many trials.</summary>
    public static GradientErrors Compare(AttentionShape shape, (double[] Queries, double[] Keys, double[] Values) reference, AttentionGradients actual)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(actual);
        return new GradientErrors(
            "dense",
            ErrorMetrics.Compare(actual.Queries, reference.Queries),
            ErrorMetrics.Compare(actual.Keys, reference.Keys),
            ErrorMetrics.Compare(actual.Values, reference.Values),
            (long)shape.Batch * shape.Heads * shape.SeqLen,
            (long)shape.Batch * shape.KvHeads * shape.SeqLen);
    }

    /// <summary>
    /// A sampled float64 check: the forward's lse and D = rowsum(dO ∘ O) of every row from <see cref="TiledReference"/>
    /// (O(B·H·N) doubles, O(pairs·d) time, on <paramref name="threads"/> threads), then dQ exactly on the query rows of a
    /// <see cref="RowSample"/> of <paramref name="rows"/> and dK, dV exactly on <paramref name="rows"/> seeded key rows
    /// (first and last token included), each row O(N·d) (a key row times the query heads sharing it).
    /// </summary>
    public static GradientErrors Sampled(AttentionInput input, AttentionOptions options, float[] outputGradient, AttentionGradients actual, int rows, int seed, int threads)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(actual);
        var shape = input.Shape;
        Guard.Length(outputGradient, shape.QueryLength, nameof(outputGradient));
        Guard.Length(actual.Queries, shape.QueryLength, nameof(actual));
        Guard.Length(actual.Keys, shape.KeyValueLength, nameof(actual));
        Guard.Length(actual.Values, shape.KeyValueLength, nameof(actual));
        Guard.Positive(rows, nameof(rows));
        Guard.Positive(threads, nameof(threads));
        var (lse, delta) = RowStatistics(input, options, outputGradient, threads);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = threads };

        var queryRows = RowSample.Choose(shape, options, rows, seed, []).Rows;
        var dQ = new Sums();
        Parallel.ForEach(queryRows, parallel, () => new Sums(), (row, _, sums) => QueryRow(input, options, outputGradient, actual.Queries, lse, delta, row, sums), sums => dQ.Merge(sums));

        var keyRows = KeyRows(shape, rows, seed);
        var dK = new Sums();
        var dV = new Sums();
        Parallel.ForEach(
            keyRows,
            parallel,
            () => (Keys: new Sums(), Values: new Sums()),
            (row, _, sums) => KeyRow(input, options, outputGradient, actual, lse, delta, row, sums),
            sums =>
            {
                dK.Merge(sums.Keys);
                dV.Merge(sums.Values);
            });

        return new GradientErrors("sampled", dQ.Metrics(), dK.Metrics(), dV.Metrics(), queryRows.Count, keyRows.Length);
    }

    /// <summary>The reference lse and D of every row [B, H, N], computed head by head in groups of rows.</summary>
    private static (double[] Lse, double[] Delta) RowStatistics(AttentionInput input, AttentionOptions options, float[] outputGradient, int threads)
    {
        var shape = input.Shape;
        int n = shape.SeqLen, d = shape.HeadDim;
        var lse = new double[(long)shape.Batch * shape.Heads * n];
        var delta = new double[lse.Length];
        var groups = (n + TiledReference.RowsPerGroup - 1) / TiledReference.RowsPerGroup;
        var items = Enumerable.Range(0, shape.Batch * shape.Heads * groups);
        Parallel.ForEach(
            items,
            new ParallelOptions { MaxDegreeOfParallelism = threads },
            () => new double[TiledReference.RowsPerGroup * d],
            (item, _, output) =>
            {
                var head = item / groups;
                var start = item % groups * TiledReference.RowsPerGroup;
                var count = System.Math.Min(TiledReference.RowsPerGroup, n - start);
                var positions = Enumerable.Range(start, count).ToArray();
                var first = ((long)head * n) + start;
                TiledReference.ComputeRows(input, options, head / shape.Heads, head % shape.Heads, positions, output.AsSpan(0, count * d), lse.AsSpan((int)first, count));
                for (var r = 0; r < count; r++)
                {
                    double sum = 0;
                    var offset = (first + r) * d;
                    for (var c = 0; c < d; c++)
                    {
                        sum += (double)outputGradient[offset + c] * output[(r * d) + c];
                    }

                    delta[first + r] = sum;
                }

                return output;
            },
            _ => { });
        return (lse, delta);
    }

    /// <summary>dQ of one global row ((b·H + h)·N + i): scale·Σⱼ Pᵢⱼ (dOᵢ·Vⱼ − Dᵢ) Kⱼ over the keys the mask allows.</summary>
    private static Sums QueryRow(AttentionInput input, AttentionOptions options, float[] outputGradient, float[] actual, double[] lse, double[] delta, long row, Sums sums)
    {
        var shape = input.Shape;
        int n = shape.SeqLen, d = shape.HeadDim;
        var head = (int)(row / n);
        var i = (int)(row % n);
        int b = head / shape.Heads, h = head % shape.Heads;
        var mask = options.MaskFor(b, h);
        var scale = (double)(options.Scale ?? shape.DefaultScale);
        var qOffset = row * d;
        var kvOffset = (long)((b * shape.KvHeads) + (h / shape.GroupSize)) * n * d;
        var expected = new double[d];
        if (!double.IsNegativeInfinity(lse[row]))
        {
            for (var j = 0; j < n; j++)
            {
                if (mask is not null && !mask.Allows(i, j))
                {
                    continue;
                }

                var key = kvOffset + ((long)j * d);
                double score = 0, dP = 0;
                for (var c = 0; c < d; c++)
                {
                    score += (double)input.Q[qOffset + c] * input.K[key + c];
                    dP += (double)outputGradient[qOffset + c] * input.V[key + c];
                }

                var dS = System.Math.Exp((score * scale) - lse[row]) * (dP - delta[row]);
                for (var c = 0; c < d; c++)
                {
                    expected[c] += scale * dS * input.K[key + c];
                }
            }
        }

        sums.Add(actual.AsSpan((int)qOffset, d), expected);
        return sums;
    }

    /// <summary>dK and dV of one global key row ((b·Hkv + g)·N + j), summed over the query heads of group g and every query the mask lets see j.</summary>
    private static (Sums Keys, Sums Values) KeyRow(
        AttentionInput input, AttentionOptions options, float[] outputGradient, AttentionGradients actual, double[] lse, double[] delta, long row, (Sums Keys, Sums Values) sums)
    {
        var shape = input.Shape;
        int n = shape.SeqLen, d = shape.HeadDim;
        var kvHead = (int)(row / n);
        var j = (int)(row % n);
        int b = kvHead / shape.KvHeads, g = kvHead % shape.KvHeads;
        var scale = (double)(options.Scale ?? shape.DefaultScale);
        var key = row * d;
        var expectedKeys = new double[d];
        var expectedValues = new double[d];
        for (var h = g * shape.GroupSize; h < (g + 1) * shape.GroupSize; h++)
        {
            var mask = options.MaskFor(b, h);
            var headRow = (long)((b * shape.Heads) + h) * n;
            for (var i = 0; i < n; i++)
            {
                var queryRow = headRow + i;
                if (double.IsNegativeInfinity(lse[queryRow]) || (mask is not null && !mask.Allows(i, j)))
                {
                    continue;
                }

                var q = queryRow * d;
                double score = 0, dP = 0;
                for (var c = 0; c < d; c++)
                {
                    score += (double)input.Q[q + c] * input.K[key + c];
                    dP += (double)outputGradient[q + c] * input.V[key + c];
                }

                var p = System.Math.Exp((score * scale) - lse[queryRow]);
                var dS = p * (dP - delta[queryRow]);
                for (var c = 0; c < d; c++)
                {
                    expectedValues[c] += p * outputGradient[q + c];
                    expectedKeys[c] += scale * dS * input.Q[q + c];
                }
            }
        }

        sums.Keys.Add(actual.Keys.AsSpan((int)key, d), expectedKeys);
        sums.Values.Add(actual.Values.AsSpan((int)key, d), expectedValues);
        return sums;
    }

    /// <summary>Sorted distinct global key rows: the first and last token of every key/value head, then seeded uniform rows.</summary>
    private static long[] KeyRows(AttentionShape shape, int count, int seed)
    {
        var total = (long)shape.Batch * shape.KvHeads * shape.SeqLen;
        if (count >= total)
        {
            return Enumerable.Range(0, (int)total).Select(r => (long)r).ToArray();
        }

        var chosen = new HashSet<long>();
        for (long head = 0; head < (long)shape.Batch * shape.KvHeads && chosen.Count < count; head++)
        {
            chosen.Add(head * shape.SeqLen);
            chosen.Add((head * shape.SeqLen) + shape.SeqLen - 1);
        }

        var random = new Random(seed);
        while (chosen.Count < count)
        {
            chosen.Add(random.NextInt64(total));
        }

        return chosen.Order().ToArray();
    }

    /// <summary>Running sums of a comparison (max |a − e|, Σ(a − e)², Σe², Σa², Σa·e); merged under a lock.</summary>
    private sealed class Sums
    {
        private double _maxAbs;
        private double _diffSquares;
        private double _expectedSquares;
        private double _actualSquares;
        private double _dot;
        private readonly object _gate = new();

        public void Add(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
        {
            for (var c = 0; c < actual.Length; c++)
            {
                double a = actual[c], e = expected[c];
                var diff = double.IsFinite(a) ? a - e : double.PositiveInfinity; // a NaN or ∞ is an infinite error, never a number
                _maxAbs = System.Math.Max(_maxAbs, System.Math.Abs(diff));
                _diffSquares += diff * diff;
                _expectedSquares += e * e;
                _actualSquares += double.IsFinite(a) ? a * a : 0;
                _dot += double.IsFinite(a) ? a * e : 0;
            }
        }

        public void Merge(Sums other)
        {
            lock (_gate)
            {
                _maxAbs = System.Math.Max(_maxAbs, other._maxAbs);
                _diffSquares += other._diffSquares;
                _expectedSquares += other._expectedSquares;
                _actualSquares += other._actualSquares;
                _dot += other._dot;
            }
        }

        public ErrorMetrics Metrics() => ErrorMetrics.FromSums(_maxAbs, _diffSquares, _expectedSquares, _actualSquares, _dot);
    }
}
