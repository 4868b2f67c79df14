using RingActors.Math.Masks;

namespace RingActors.Math.Verification;

/// <summary>
/// Exact gradients of attention in float64 for sampled rows, in O(N·d) memory beyond the inputs: what verifies a backward
/// too long for <see cref="ReferenceBackward"/>'s dense loops. dQ of a query row needs that row's lse and D = dO·O, which
/// <see cref="TiledReference"/> gives exactly, then one pass over the keys. dK and dV of a key need every query that may
/// attend it, so the queries are streamed in tiles of <see cref="QueryTile"/>, each tile's lse and output recomputed in
/// float64; a tile the mask keeps from every sampled key is never recomputed, so banded and sparse masks stay cheap.
/// Written apart from the fp32 kernel (its own loops, double throughout): a bug shared by reference and kernel would hide.
/// </summary>
public static class TiledBackwardReference
{
    /// <summary>Query rows recomputed together when streaming the queries for key gradients.</summary>
    public const int QueryTile = 256;

    /// <summary>Keys classified together against one query row.</summary>
    public const int KeyTile = 128;

    /// <summary>
    /// dQ of (batch, head) at sorted query <paramref name="positions"/>, [positions, d]; zeros for a row that attends nothing.
    /// </summary>
    public static void QueryRows(AttentionInput input, float[] outputGradient, AttentionOptions options, int batch, int head, ReadOnlySpan<int> positions, Span<double> queryGradient)
    {
        var shape = Validate(input, outputGradient, options);
        if ((uint)batch >= (uint)shape.Batch || (uint)head >= (uint)shape.Heads)
        {
            throw new ArgumentException($"(batch, head) = ({batch}, {head}) is outside {shape.Batch}×{shape.Heads}", nameof(head));
        }

        int n = shape.SeqLen, d = shape.HeadDim;
        Guard.Length(queryGradient, (long)positions.Length * d, nameof(queryGradient));
        var output = new double[positions.Length * d];
        var lse = new double[positions.Length];
        TiledReference.ComputeRows(input, options, batch, head, positions, output, lse); // validates the positions
        double scale = options.Scale ?? shape.DefaultScale;
        var mask = options.MaskFor(batch, head);
        var keys = TiledReference.Iota(n);
        var qOffset = ((batch * shape.Heads) + head) * n * d;
        var kvOffset = ((batch * shape.KvHeads) + (head / shape.GroupSize)) * n * d;
        queryGradient.Clear();
        for (var r = 0; r < positions.Length; r++)
        {
            if (double.IsNegativeInfinity(lse[r]))
            {
                continue;
            }

            var i = positions[r];
            var q = input.Q.AsSpan(qOffset + (i * d), d);
            var dO = outputGradient.AsSpan(qOffset + (i * d), d);
            var delta = Dot(dO, output.AsSpan(r * d, d));
            var dQ = queryGradient.Slice(r * d, d);
            ReadOnlySpan<int> query = [i];
            for (var k0 = 0; k0 < n; k0 += KeyTile)
            {
                var tile = keys.AsSpan(k0, System.Math.Min(KeyTile, n - k0));
                var coverage = mask is null ? BlockCoverage.Full : mask.Classify(query, tile);
                if (coverage == BlockCoverage.Empty)
                {
                    continue;
                }

                foreach (var j in tile)
                {
                    if (coverage == BlockCoverage.Partial && !mask!.Allows(i, j))
                    {
                        continue;
                    }

                    var k = input.K.AsSpan(kvOffset + (j * d), d);
                    var p = System.Math.Exp((scale * Dot(q, k)) - lse[r]);
                    var dS = p * (Dot(dO, input.V.AsSpan(kvOffset + (j * d), d)) - delta);
                    for (var c = 0; c < d; c++)
                    {
                        dQ[c] += scale * dS * k[c];
                    }
                }
            }
        }
    }

    /// <summary>
    /// dK and dV of (batch, <paramref name="kvHead"/>) at sorted key <paramref name="positions"/>, [positions, d] each,
    /// summed over the query heads that share the key/value head; zeros for a key nobody attends.
    /// </summary>
    public static void KeyRows(AttentionInput input, float[] outputGradient, AttentionOptions options, int batch, int kvHead, ReadOnlySpan<int> positions, Span<double> keyGradient, Span<double> valueGradient)
    {
        var shape = Validate(input, outputGradient, options);
        if ((uint)batch >= (uint)shape.Batch || (uint)kvHead >= (uint)shape.KvHeads)
        {
            throw new ArgumentException($"(batch, kv head) = ({batch}, {kvHead}) is outside {shape.Batch}×{shape.KvHeads}", nameof(kvHead));
        }

        int n = shape.SeqLen, d = shape.HeadDim;
        Guard.Length(keyGradient, (long)positions.Length * d, nameof(keyGradient));
        Guard.Length(valueGradient, (long)positions.Length * d, nameof(valueGradient));
        for (var s = 0; s < positions.Length; s++)
        {
            if ((uint)positions[s] >= (uint)n || (s > 0 && positions[s] <= positions[s - 1]))
            {
                throw new ArgumentException($"positions must be sorted, distinct and in 0..{n - 1}; got {positions[s]} at index {s}", nameof(positions));
            }
        }

        keyGradient.Clear();
        valueGradient.Clear();
        if (positions.IsEmpty)
        {
            return;
        }

        double scale = options.Scale ?? shape.DefaultScale;
        var sampled = positions.ToArray();
        var queries = TiledReference.Iota(n);
        var tileRows = System.Math.Min(QueryTile, n);
        var output = new double[tileRows * d];
        var lse = new double[tileRows];
        var kvOffset = ((batch * shape.KvHeads) + kvHead) * n * d;
        for (var head = kvHead * shape.GroupSize; head < (kvHead + 1) * shape.GroupSize; head++)
        {
            var mask = options.MaskFor(batch, head);
            var qOffset = ((batch * shape.Heads) + head) * n * d;
            for (var q0 = 0; q0 < n; q0 += QueryTile)
            {
                var tile = queries.AsSpan(q0, System.Math.Min(QueryTile, n - q0));
                var coverage = mask is null ? BlockCoverage.Full : mask.Classify(tile, sampled);
                if (coverage == BlockCoverage.Empty)
                {
                    continue; // no sampled key is attended by these queries: their lse is not needed
                }

                TiledReference.ComputeRows(input, options, batch, head, tile, output.AsSpan(0, tile.Length * d), lse.AsSpan(0, tile.Length));
                for (var r = 0; r < tile.Length; r++)
                {
                    if (double.IsNegativeInfinity(lse[r]))
                    {
                        continue;
                    }

                    var i = tile[r];
                    var q = input.Q.AsSpan(qOffset + (i * d), d);
                    var dO = outputGradient.AsSpan(qOffset + (i * d), d);
                    var delta = Dot(dO, output.AsSpan(r * d, d));
                    for (var s = 0; s < sampled.Length; s++)
                    {
                        var j = sampled[s];
                        if (coverage == BlockCoverage.Partial && !mask!.Allows(i, j))
                        {
                            continue;
                        }

                        var p = System.Math.Exp((scale * Dot(q, input.K.AsSpan(kvOffset + (j * d), d))) - lse[r]);
                        var dS = p * (Dot(dO, input.V.AsSpan(kvOffset + (j * d), d)) - delta);
                        var dK = keyGradient.Slice(s * d, d);
                        var dV = valueGradient.Slice(s * d, d);
                        for (var c = 0; c < d; c++)
                        {
                            dV[c] += p * dO[c];
                            dK[c] += scale * dS * q[c];
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// How far <paramref name="actual"/> is from the exact gradients on a sample: dQ on global query rows
    /// <paramref name="queryRows"/> ((b·H + h)·N + i) and dK, dV on global key rows <paramref name="keyRows"/>
    /// ((b·Hkv + g)·N + j), each sorted and distinct. O((rows + N)·d) memory.
    /// </summary>
    public static (ErrorMetrics Queries, ErrorMetrics Keys, ErrorMetrics Values) Compare(
        AttentionInput input, float[] outputGradient, AttentionOptions options, AttentionGradients actual, IReadOnlyList<long> queryRows, IReadOnlyList<long> keyRows)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(queryRows);
        ArgumentNullException.ThrowIfNull(keyRows);
        var shape = Validate(input, outputGradient, options);
        Guard.Length(actual.Queries, shape.QueryLength, nameof(actual));
        Guard.Length(actual.Keys, shape.KeyValueLength, nameof(actual));
        Guard.Length(actual.Values, shape.KeyValueLength, nameof(actual));
        var d = shape.HeadDim;
        var queries = new Sums();
        foreach (var (head, positions) in ByHead(queryRows, shape.SeqLen, (long)shape.Batch * shape.Heads, nameof(queryRows)))
        {
            var expected = new double[positions.Length * d];
            QueryRows(input, outputGradient, options, head / shape.Heads, head % shape.Heads, positions, expected);
            queries.Add(actual.Queries, head, shape.SeqLen, positions, d, expected);
        }

        var keys = new Sums();
        var values = new Sums();
        foreach (var (head, positions) in ByHead(keyRows, shape.SeqLen, (long)shape.Batch * shape.KvHeads, nameof(keyRows)))
        {
            var expectedKeys = new double[positions.Length * d];
            var expectedValues = new double[positions.Length * d];
            KeyRows(input, outputGradient, options, head / shape.KvHeads, head % shape.KvHeads, positions, expectedKeys, expectedValues);
            keys.Add(actual.Keys, head, shape.SeqLen, positions, d, expectedKeys);
            values.Add(actual.Values, head, shape.SeqLen, positions, d, expectedValues);
        }

        return (queries.Metrics, keys.Metrics, values.Metrics);
    }

    private static AttentionShape Validate(AttentionInput input, float[] outputGradient, AttentionOptions options)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(outputGradient);
        ArgumentNullException.ThrowIfNull(options);
        Guard.Length(outputGradient, input.Shape.QueryLength, nameof(outputGradient));
        return input.Shape;
    }

    /// <summary>Sorted global rows grouped by their (batch, head): one head's positions at a time.</summary>
    private static IEnumerable<(int Head, int[] Positions)> ByHead(IReadOnlyList<long> rows, int n, long heads, string parameter)
    {
        var start = 0;
        while (start < rows.Count)
        {
            var head = rows[start] / n;
            var end = start;
            while (end < rows.Count && rows[end] / n == head)
            {
                if (rows[end] < 0 || rows[end] >= heads * n || (end > start && rows[end] <= rows[end - 1]))
                {
                    throw new ArgumentException($"rows must be sorted, distinct and in 0..{(heads * n) - 1}; got {rows[end]} at index {end}", parameter);
                }

                end++;
            }

            var positions = new int[end - start];
            for (var r = 0; r < positions.Length; r++)
            {
                positions[r] = (int)(rows[start + r] % n);
            }

            yield return ((int)head, positions);
            start = end;
        }
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (var c = 0; c < a.Length; c++)
        {
            sum += (double)a[c] * b[c];
        }

        return sum;
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<double> b)
    {
        double sum = 0;
        for (var c = 0; c < a.Length; c++)
        {
            sum += a[c] * b[c];
        }

        return sum;
    }

    /// <summary>The streaming sums <see cref="ErrorMetrics.FromSums"/> takes, over the sampled rows.</summary>
    private sealed class Sums
    {
        private double _maxAbs;
        private double _diffSquares;
        private double _expectedSquares;
        private double _actualSquares;
        private double _dot;

        public ErrorMetrics Metrics => ErrorMetrics.FromSums(_maxAbs, _diffSquares, _expectedSquares, _actualSquares, _dot);

        public void Add(float[] actual, int head, int n, int[] positions, int d, double[] expected)
        {
            for (var r = 0; r < positions.Length; r++)
            {
                var row = actual.AsSpan((int)((((long)head * n) + positions[r]) * d), d);
                for (var c = 0; c < d; c++)
                {
                    double a = row[c], e = expected[(r * d) + c];
                    if (!double.IsFinite(a))
                    {
                        _maxAbs = _diffSquares = double.PositiveInfinity;
                        continue;
                    }

                    var diff = a - e;
                    _maxAbs = System.Math.Max(_maxAbs, System.Math.Abs(diff));
                    _diffSquares += diff * diff;
                    _expectedSquares += e * e;
                    _actualSquares += a * a;
                    _dot += a * e;
                }
            }
        }
    }
}
