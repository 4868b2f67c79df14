using System.Numerics;
using RingActors.Math.Masks;

namespace RingActors.Math.Verification;

/// <summary>
/// Exact attention in float64, computed tile by tile so that it never holds more than O(N·d) beyond its inputs: a long
/// sequence is verified where the dense N×N scores cannot be held. Written apart from the fp32 kernels on purpose (its own
/// loops, double accumulators, its own online softmax): a bug shared by reference and kernel would hide itself. The mask is
/// the pattern's own definition, <see cref="IAttentionMask.Classify"/> for (query set, key range) pairs and
/// <see cref="IAttentionMask.Allows"/> inside partial tiles.
/// </summary>
/// <remarks>
/// The (query set, key range) plane is cut recursively, the larger side first, until a piece is empty (skipped), or full and
/// small enough on the query side, or one leaf tile. A banded or causal mask is thus classified O(N log N) times in all,
/// rather than once per tile pair (N²/(32·128) pairs at a million tokens). Rows are processed in groups of at most
/// <see cref="RowsPerGroup"/>, each with its own online-softmax state (m, l, o in double).
/// </remarks>
public static class TiledReference
{
    /// <summary>Query rows of one leaf tile.</summary>
    public const int QueryTile = 32;

    /// <summary>Keys of one leaf tile; their K and V are widened to double once per leaf.</summary>
    public const int KeyTile = 128;

    /// <summary>Query rows that share one online-softmax state: O(rows·d) doubles per thread.</summary>
    public const int RowsPerGroup = 4096;

    /// <summary>
    /// Computes the rows at sorted global <paramref name="positions"/> of (batch, head) exactly: output [positions, d] and lse
    /// [positions] (−∞ and zeros for a row that attends nothing). Returns the query–key pairs it computed (whole leaf tiles).
    /// </summary>
    public static long ComputeRows(AttentionInput input, AttentionOptions options, int batch, int head, ReadOnlySpan<int> positions, Span<double> output, Span<double> lse)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(options);
        var shape = input.Shape;
        if ((uint)batch >= (uint)shape.Batch || (uint)head >= (uint)shape.Heads)
        {
            throw new ArgumentException($"(batch, head) = ({batch}, {head}) is outside {shape.Batch}×{shape.Heads}", nameof(head));
        }

        Guard.Length(output, (long)positions.Length * shape.HeadDim, nameof(output));
        Guard.Length(lse, positions.Length, nameof(lse));
        for (var i = 0; i < positions.Length; i++)
        {
            if ((uint)positions[i] >= (uint)shape.SeqLen || (i > 0 && positions[i] <= positions[i - 1]))
            {
                throw new ArgumentException($"positions must be sorted, distinct and in 0..{shape.SeqLen - 1}; got {positions[i]} at index {i}", nameof(positions));
            }
        }

        var keys = Iota(shape.SeqLen);
        var workspace = new Workspace(shape.HeadDim, System.Math.Min(RowsPerGroup, System.Math.Max(1, positions.Length)));
        long pairs = 0;
        for (var start = 0; start < positions.Length; start += RowsPerGroup)
        {
            var count = System.Math.Min(RowsPerGroup, positions.Length - start);
            pairs += Group(input, options, batch, head, positions.Slice(start, count), keys, workspace,
                output.Slice(start * shape.HeadDim, count * shape.HeadDim), lse.Slice(start, count));
        }

        return pairs;
    }

    /// <summary>
    /// Pairs <paramref name="mask"/> allows among positions [0, <paramref name="seqLen"/>) (all n² for null), counted with the
    /// same recursive cut as the reference: empty and full pieces at once, leaf tiles pair by pair. O(N log N) classifications
    /// for banded and causal masks, where counting tile pair by tile pair needs N²/(64·128).
    /// </summary>
    public static long CountAllowedPairs(IAttentionMask? mask, int seqLen)
    {
        Guard.Positive(seqLen, nameof(seqLen));
        if (mask is null)
        {
            return (long)seqLen * seqLen;
        }

        var positions = Iota(seqLen);
        return Count(mask, positions, positions);
    }

    private static long Count(IAttentionMask mask, ReadOnlySpan<int> queries, ReadOnlySpan<int> keys)
    {
        switch (mask.Classify(queries, keys))
        {
            case BlockCoverage.Empty:
                return 0;
            case BlockCoverage.Full:
                return (long)queries.Length * keys.Length;
        }

        if (queries.Length <= QueryTile && keys.Length <= KeyTile)
        {
            long count = 0;
            foreach (var q in queries)
            {
                foreach (var k in keys)
                {
                    count += mask.Allows(q, k) ? 1 : 0;
                }
            }

            return count;
        }

        if (keys.Length <= KeyTile || (queries.Length > QueryTile && (long)queries.Length * KeyTile >= (long)keys.Length * QueryTile))
        {
            var half = queries.Length / 2;
            return Count(mask, queries[..half], keys) + Count(mask, queries[half..], keys);
        }

        var keyHalf = ((keys.Length / KeyTile + 1) / 2) * KeyTile;
        return Count(mask, queries, keys[..keyHalf]) + Count(mask, queries, keys[keyHalf..]);
    }

    /// <summary>0, 1, …, n − 1: key ranges are slices of it, so classifying a range allocates nothing.</summary>
    internal static int[] Iota(int n)
    {
        var values = new int[n];
        for (var i = 0; i < n; i++)
        {
            values[i] = i;
        }

        return values;
    }

    /// <summary>One group of rows: state reset, the plane cut and computed, rows finished into output and lse.</summary>
    internal static long Group(
        AttentionInput input, AttentionOptions options, int batch, int head, ReadOnlySpan<int> queries, int[] keys, Workspace workspace, Span<double> output, Span<double> lse)
    {
        var shape = input.Shape;
        var d = shape.HeadDim;
        var scale = (double)(options.Scale ?? shape.DefaultScale);
        var qOffset = ((batch * shape.Heads) + head) * shape.SeqLen * d;
        var kvOffset = ((batch * shape.KvHeads) + (head / shape.GroupSize)) * shape.SeqLen * d;
        var rows = queries.Length;
        workspace.Reset(rows);
        for (var r = 0; r < rows; r++)
        {
            // The scale is folded into the widened query: s_ij = Σ_c (scale·q_ic)·k_jc.
            var source = input.Q.AsSpan(qOffset + (queries[r] * d), d);
            var target = workspace.Queries.AsSpan(r * d, d);
            for (var c = 0; c < d; c++)
            {
                target[c] = source[c] * scale;
            }
        }

        var context = new Context(input, options.MaskFor(batch, head), kvOffset, d, workspace);
        var pairs = Cut(context, queries, 0, keys.AsSpan());
        for (var r = 0; r < rows; r++)
        {
            var o = output.Slice(r * d, d);
            var l = workspace.Sums[r];
            if (l == 0)
            {
                o.Clear();
                lse[r] = double.NegativeInfinity;
                continue;
            }

            var accumulated = workspace.Outputs.AsSpan(r * d, d);
            for (var c = 0; c < d; c++)
            {
                o[c] = accumulated[c] / l;
            }

            lse[r] = workspace.Maxima[r] + System.Math.Log(l);
        }

        return pairs;
    }

    /// <summary>Classifies (queries, keys) and recurses on the larger side until a piece is empty, full or a leaf.</summary>
    private static long Cut(Context context, ReadOnlySpan<int> queries, int firstRow, ReadOnlySpan<int> keys)
    {
        var coverage = context.Mask is null ? BlockCoverage.Full : context.Mask.Classify(queries, keys);
        if (coverage == BlockCoverage.Empty)
        {
            return 0;
        }

        var leafQueries = queries.Length <= QueryTile;
        if (leafQueries && (coverage == BlockCoverage.Full || keys.Length <= KeyTile))
        {
            long pairs = 0;
            for (var k0 = 0; k0 < keys.Length; k0 += KeyTile)
            {
                var tile = keys.Slice(k0, System.Math.Min(KeyTile, keys.Length - k0));
                pairs += Leaf(context, queries, firstRow, tile, coverage == BlockCoverage.Full ? null : context.Mask);
            }

            return pairs;
        }

        // Split whichever side holds more tiles, so pieces stay near the leaf's 32×128 aspect.
        if (!leafQueries && (keys.Length <= KeyTile || (long)queries.Length * KeyTile >= (long)keys.Length * QueryTile))
        {
            var half = queries.Length / 2;
            return Cut(context, queries[..half], firstRow, keys) + Cut(context, queries[half..], firstRow + half, keys);
        }

        // Halves on a multiple of the key tile, so leaves line up with tiles of KeyTile keys.
        var keyHalf = ((keys.Length / KeyTile + 1) / 2) * KeyTile;
        return Cut(context, queries, firstRow, keys[..keyHalf]) + Cut(context, queries, firstRow, keys[keyHalf..]);
    }

    /// <summary>
    /// One leaf: the keys (a contiguous range, at most <see cref="KeyTile"/>) widened to double, then for each query row its
    /// scores, the online-softmax update of (m, l, o) in double, and o += Σ_j w_j·v_j.
    /// </summary>
    private static long Leaf(Context context, ReadOnlySpan<int> queries, int firstRow, ReadOnlySpan<int> keys, IAttentionMask? partialMask)
    {
        var d = context.HeadDim;
        var w = context.Workspace;
        var n = keys.Length;
        var keyStart = context.KvOffset + (keys[0] * d);
        var kSource = context.Input.K.AsSpan(keyStart, n * d);
        var vSource = context.Input.V.AsSpan(keyStart, n * d);
        var keysT = w.KeysTransposed.AsSpan(0, d * n);
        var values = w.Values.AsSpan(0, n * d);
        for (var j = 0; j < n; j++)
        {
            for (var c = 0; c < d; c++)
            {
                keysT[(c * n) + j] = kSource[(j * d) + c];
                values[(j * d) + c] = vSource[(j * d) + c];
            }
        }

        var scores = w.Scores.AsSpan(0, n);
        for (var r = 0; r < queries.Length; r++)
        {
            var row = firstRow + r;
            var query = w.Queries.AsSpan(row * d, d);

            // s = Σ_c q_c·Kᵀ_c: d vector multiply-adds over the tile's keys, no horizontal sums.
            scores.Clear();
            for (var c = 0; c < d; c++)
            {
                MultiplyAdd(keysT.Slice(c * n, n), query[c], scores);
            }

            var max = double.NegativeInfinity;
            for (var j = 0; j < n; j++)
            {
                if (partialMask is not null && !partialMask.Allows(queries[r], keys[j]))
                {
                    scores[j] = double.NegativeInfinity;
                    continue;
                }

                max = System.Math.Max(max, scores[j]);
            }

            if (double.IsNegativeInfinity(max))
            {
                continue; // the row attends nothing in this tile: (o, l) unchanged, the merge's identity
            }

            var output = w.Outputs.AsSpan(row * d, d);
            var previous = w.Maxima[row];
            if (max > previous)
            {
                // exp(−∞) = 0: a row's first non-empty tile rescales nothing it had.
                var correction = System.Math.Exp(previous - max);
                w.Sums[row] *= correction;
                Scale(output, correction);
                w.Maxima[row] = max;
            }
            else
            {
                max = previous;
            }

            var sum = 0.0;
            for (var j = 0; j < n; j++)
            {
                var weight = System.Math.Exp(scores[j] - max);
                if (weight == 0)
                {
                    continue;
                }

                sum += weight;
                MultiplyAdd(values.Slice(j * d, d), weight, output);
            }

            w.Sums[row] += sum;
        }

        return (long)queries.Length * n;
    }

    /// <summary>destination += factor·source, in double vectors then a scalar tail.</summary>
    private static void MultiplyAdd(ReadOnlySpan<double> source, double factor, Span<double> destination)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && source.Length >= Vector<double>.Count)
        {
            var f = new Vector<double>(factor);
            for (; i <= source.Length - Vector<double>.Count; i += Vector<double>.Count)
            {
                var acc = new Vector<double>(destination[i..]);
                (acc + (f * new Vector<double>(source[i..]))).CopyTo(destination[i..]);
            }
        }

        for (; i < source.Length; i++)
        {
            destination[i] += factor * source[i];
        }
    }

    private static void Scale(Span<double> values, double factor)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i] *= factor;
        }
    }

    private sealed record Context(AttentionInput Input, IAttentionMask? Mask, int KvOffset, int HeadDim, Workspace Workspace);

    /// <summary>One thread's buffers: the group's state (m, l, o), its widened queries, and one leaf's widened K, V and scores.</summary>
    internal sealed class Workspace(int headDim, int rows)
    {
        public double[] Queries { get; private set; } = new double[rows * headDim];

        public double[] Outputs { get; private set; } = new double[rows * headDim];

        public double[] Maxima { get; private set; } = new double[rows];

        public double[] Sums { get; private set; } = new double[rows];

        public double[] KeysTransposed { get; } = new double[KeyTile * headDim];

        public double[] Values { get; } = new double[KeyTile * headDim];

        public double[] Scores { get; } = new double[KeyTile];

        public void Reset(int count)
        {
            if (count > Maxima.Length)
            {
                Queries = new double[count * headDim];
                Outputs = new double[count * headDim];
                Maxima = new double[count];
                Sums = new double[count];
            }

            Array.Fill(Maxima, double.NegativeInfinity, 0, count);
            Array.Clear(Sums, 0, count);
            Array.Clear(Outputs, 0, count * headDim);
        }
    }
}
