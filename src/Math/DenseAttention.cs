using System.Buffers;
using System.Numerics.Tensors;

namespace RingActors.Math;

/// <summary>
/// Dense reference attention: the full N×N score matrix of each (batch, head) is materialised, soft-maxed and
/// multiplied by V, as textbook attention does. Its peak working memory is the inputs plus N²·4 bytes.
/// </summary>
public static class DenseAttention
{
    /// <summary>Dense attention in float32 with a per-row log-sum-exp; rows with nothing to attend output zeros and lse −∞.</summary>
    public static PartialAttention Compute(AttentionInput input, AttentionOptions options)
    {
        var shape = input.Shape;
        var n = shape.SeqLen;
        var d = shape.HeadDim;
        var scale = options.Scale ?? shape.DefaultScale;
        var result = new PartialAttention(shape.Batch, shape.Heads, n, d);
        var scores = ArrayPool<float>.Shared.Rent(checked(n * n));
        var keysTransposed = ArrayPool<float>.Shared.Rent(n * d);
        var valuesTransposed = ArrayPool<float>.Shared.Rent(n * d);
        try
        {
            for (var b = 0; b < shape.Batch; b++)
            {
                for (var h = 0; h < shape.Heads; h++)
                {
                    var qOffset = ((b * shape.Heads) + h) * n * d;
                    var kvOffset = ((b * shape.KvHeads) + (h / shape.GroupSize)) * n * d;
                    if (h % shape.GroupSize == 0)
                    {
                        // Kᵀ and Vᵀ turn both products into long vector operations over N: S_i = Σ_c q_ic·Kᵀ_c, o_ic = P_i·Vᵀ_c.
                        Transpose(input.K.AsSpan(kvOffset, n * d), n, d, keysTransposed);
                        Transpose(input.V.AsSpan(kvOffset, n * d), n, d, valuesTransposed);
                    }

                    var mask = options.MaskFor(b, h);
                    Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = options.Threads }, i =>
                    {
                        var query = input.Q.AsSpan(qOffset + (i * d), d);
                        var row = scores.AsSpan(i * n, n);
                        row.Clear();
                        for (var c = 0; c < d; c++)
                        {
                            TensorPrimitives.MultiplyAdd(keysTransposed.AsSpan(c * n, n), query[c] * scale, row, row);
                        }

                        if (mask is not null)
                        {
                            for (var j = 0; j < n; j++)
                            {
                                if (!mask.Allows(i, j))
                                {
                                    row[j] = float.NegativeInfinity;
                                }
                            }
                        }

                        var lseIndex = (qOffset / d) + i;
                        var max = TensorPrimitives.Max(row);
                        if (float.IsNegativeInfinity(max))
                        {
                            result.Lse[lseIndex] = float.NegativeInfinity;
                            return;
                        }

                        // Subtract the max before exponentiating: TensorPrimitives.SoftMax does not, and overflows on logits.
                        TensorPrimitives.Subtract(row, max, row);
                        TensorPrimitives.Exp(row, row);
                        var sum = TensorPrimitives.Sum(row);
                        var output = result.Output.AsSpan(qOffset + (i * d), d);
                        for (var c = 0; c < d; c++)
                        {
                            output[c] = TensorPrimitives.Dot(row, valuesTransposed.AsSpan(c * n, n)) / sum;
                        }

                        result.Lse[lseIndex] = max + MathF.Log(sum);
                    });
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scores);
            ArrayPool<float>.Shared.Return(keysTransposed);
            ArrayPool<float>.Shared.Return(valuesTransposed);
        }

        return result;
    }

    private static void Transpose(ReadOnlySpan<float> source, int rows, int columns, Span<float> destination)
    {
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                destination[(c * rows) + r] = source[(r * columns) + c];
            }
        }
    }

    /// <summary>Bytes dense attention holds at its peak: Q, K, V, output and lse, Kᵀ and Vᵀ of one head, plus one N×N float32 score matrix.</summary>
    public static long PeakWorkingBytes(AttentionShape shape) =>
        (((long)shape.QueryLength * 2) + ((long)shape.KeyValueLength * 2) + ((long)shape.Batch * shape.Heads * shape.SeqLen) + (2L * shape.SeqLen * shape.HeadDim) + ((long)shape.SeqLen * shape.SeqLen)) * sizeof(float);
}

/// <summary>The float64-accumulating oracle that tests compare every kernel against. Slow and simple on purpose.</summary>
public static class ReferenceAttention
{
    /// <summary>Output and lse computed in double precision, with an optional arbitrary mask (null: all pairs).</summary>
    public static (double[] Output, double[] Lse) Compute(AttentionInput input, AttentionOptions options, Func<int, int, int, int, bool>? extraMask = null)
    {
        var shape = input.Shape;
        int n = shape.SeqLen, d = shape.HeadDim;
        double scale = options.Scale ?? shape.DefaultScale;
        var output = new double[shape.QueryLength];
        var lse = new double[shape.Batch * shape.Heads * n];
        var logits = new double[n];
        for (var b = 0; b < shape.Batch; b++)
        {
            for (var h = 0; h < shape.Heads; h++)
            {
                var mask = options.MaskFor(b, h);
                var qOffset = ((b * shape.Heads) + h) * n * d;
                var kvOffset = ((b * shape.KvHeads) + (h / shape.GroupSize)) * n * d;
                for (var i = 0; i < n; i++)
                {
                    var max = double.NegativeInfinity;
                    for (var j = 0; j < n; j++)
                    {
                        var allowed = (mask is null || mask.Allows(i, j)) && (extraMask is null || extraMask(b, h, i, j));
                        if (!allowed)
                        {
                            logits[j] = double.NegativeInfinity;
                            continue;
                        }

                        double dot = 0;
                        for (var c = 0; c < d; c++)
                        {
                            dot += (double)input.Q[qOffset + (i * d) + c] * input.K[kvOffset + (j * d) + c];
                        }

                        logits[j] = dot * scale;
                        max = System.Math.Max(max, logits[j]);
                    }

                    var row = (qOffset / d) + i;
                    if (double.IsNegativeInfinity(max))
                    {
                        lse[row] = double.NegativeInfinity;
                        continue;
                    }

                    double sum = 0;
                    for (var j = 0; j < n; j++)
                    {
                        sum += System.Math.Exp(logits[j] - max);
                    }

                    for (var j = 0; j < n; j++)
                    {
                        var weight = System.Math.Exp(logits[j] - max) / sum;
                        if (weight == 0)
                        {
                            continue;
                        }

                        for (var c = 0; c < d; c++)
                        {
                            output[qOffset + (i * d) + c] += weight * input.V[kvOffset + (j * d) + c];
                        }
                    }

                    lse[row] = max + System.Math.Log(sum);
                }
            }
        }

        return (output, lse);
    }
}
