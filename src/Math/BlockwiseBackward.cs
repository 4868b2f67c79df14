using System.Numerics.Tensors;

namespace RingActors.Math;

/// <summary>Gradients of attention with respect to its inputs: dQ [B, H, N, d], dK and dV [B, Hkv, N, d].</summary>
public sealed record AttentionGradients(float[] Queries, float[] Keys, float[] Values);

/// <summary>
/// The gradient accumulators of one key/value block, laid out as the block is ([Batch, KvHeads, Tokens, HeadDim] each):
/// the sums of every query chunk's contribution to dK and dV of these keys.
/// </summary>
public sealed record KeyValueGradients(float[] Keys, float[] Values)
{
    /// <summary>Zeroed accumulators for a block of <paramref name="tokens"/> tokens.</summary>
    public static KeyValueGradients Zero(AttentionHeads heads, int tokens)
    {
        var length = heads.Batch * heads.KvHeads * tokens * heads.HeadDim;
        return new KeyValueGradients(new float[length], new float[length]);
    }
}

/// <summary>
/// What the backward pass needs of a query chunk besides its keys' blocks: Q, the output gradient dO, the forward's global
/// log-sum-exp of each row and D = rowsum(dO ∘ O) (ANCHORS.md §7). With the global lse a tile's probabilities are recomputed
/// exactly (P = exp(S − lse)); a per-block lse here would give wrong dQ and dK (tenstorrent/tt-metal#53205).
/// </summary>
public sealed class BackwardRows
{
    private BackwardRows(QueryChunk queries, float[] outputGradient, float[] lse, float[] delta)
    {
        Queries = queries;
        OutputGradient = outputGradient;
        Lse = lse;
        Delta = delta;
    }

    public QueryChunk Queries { get; }

    /// <summary>dO, laid out as the queries [Batch, Heads, Tokens, HeadDim].</summary>
    public float[] OutputGradient { get; }

    /// <summary>The forward's global lse per row [Batch, Heads, Tokens]; −∞ for a row that attends nothing.</summary>
    public float[] Lse { get; }

    /// <summary>D = rowsum(dO ∘ O) per row [Batch, Heads, Tokens].</summary>
    public float[] Delta { get; }

    public int Tokens => Queries.Tokens;

    /// <summary>The rows of <paramref name="queries"/> with their output gradient and their complete forward result.</summary>
    public static BackwardRows Create(QueryChunk queries, float[] outputGradient, PartialAttention forward)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(outputGradient);
        ArgumentNullException.ThrowIfNull(forward);
        if (forward.Tokens != queries.Tokens)
        {
            throw new ArgumentException($"the forward result holds {forward.Tokens} tokens, the queries {queries.Tokens}", nameof(forward));
        }

        Guard.Length(queries.Data, forward.Output.LongLength, nameof(queries));
        Guard.Length(outputGradient, forward.Output.LongLength, nameof(outputGradient));
        var d = forward.HeadDim;
        var delta = new float[forward.Rows];
        for (var row = 0; row < forward.Rows; row++)
        {
            delta[row] = TensorPrimitives.Dot(outputGradient.AsSpan(row * d, d), forward.Output.AsSpan(row * d, d));
        }

        return new BackwardRows(queries, outputGradient, forward.Lse, delta);
    }
}

/// <summary>
/// The blockwise backward of attention (FlashAttention-2, ANCHORS.md §7): for a query chunk and one key/value block,
/// recompute P = exp(scale·Q·Kᵀ − lse), then dV += Pᵀ·dO, dP = dO·Vᵀ, dS = P ∘ (dP − D), dQ += scale·dS·K,
/// dK += scale·dSᵀ·Q. With grouped heads dK and dV sum over the query heads sharing a key/value head. Rows that attend
/// nothing (lse = −∞) contribute nothing.
/// </summary>
public static class BlockwiseBackward
{
    /// <summary>
    /// Adds this block's contributions to <paramref name="queryGradient"/> (dQ of the chunk, laid out as its queries) and to
    /// <paramref name="blockGradients"/> (dK and dV of the block).
    /// </summary>
    public static BlockWork Accumulate(BackwardRows rows, KeyValueBlock block, AttentionHeads heads, AttentionOptions options, float[] queryGradient, KeyValueGradients blockGradients)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(queryGradient);
        ArgumentNullException.ThrowIfNull(blockGradients);
        heads.WithTokens(1).Validate();
        var d = heads.HeadDim;
        var queryTokens = rows.Tokens;
        var keyTokens = block.Tokens;
        Guard.Length(queryGradient, (long)heads.Batch * heads.Heads * queryTokens * d, nameof(queryGradient));
        Guard.Length(block.Keys, (long)heads.Batch * heads.KvHeads * keyTokens * d, "keys");
        Guard.Length(blockGradients.Keys, block.Keys.LongLength, nameof(blockGradients));
        Guard.Length(blockGradients.Values, block.Keys.LongLength, nameof(blockGradients));
        var scale = options.Scale ?? 1f / MathF.Sqrt(d);
        long pairs = 0;

        // The plain reference loop: one pair at a time. The tiled, vectorised kernel replaces it.
        for (var b = 0; b < heads.Batch; b++)
        {
            for (var h = 0; h < heads.Heads; h++)
            {
                var mask = options.MaskFor(b, h);
                var kvHead = (b * heads.KvHeads) + (h / heads.GroupSize);
                for (var i = 0; i < queryTokens; i++)
                {
                    var row = (((b * heads.Heads) + h) * queryTokens) + i;
                    var lse = rows.Lse[row];
                    if (float.IsNegativeInfinity(lse))
                    {
                        continue;
                    }

                    var q = rows.Queries.Data.AsSpan(row * d, d);
                    var dO = rows.OutputGradient.AsSpan(row * d, d);
                    var dQ = queryGradient.AsSpan(row * d, d);
                    for (var j = 0; j < keyTokens; j++)
                    {
                        if (mask is not null && !mask.Allows(rows.Queries.Positions[i], block.Positions[j]))
                        {
                            continue;
                        }

                        var offset = ((kvHead * keyTokens) + j) * d;
                        var k = block.Keys.AsSpan(offset, d);
                        var v = block.Values.AsSpan(offset, d);
                        var p = MathF.Exp((scale * TensorPrimitives.Dot(q, k)) - lse);
                        var dS = p * (TensorPrimitives.Dot(dO, v) - rows.Delta[row]);
                        var dK = blockGradients.Keys.AsSpan(offset, d);
                        var dV = blockGradients.Values.AsSpan(offset, d);
                        for (var c = 0; c < d; c++)
                        {
                            dV[c] += p * dO[c];
                            dQ[c] += scale * dS * k[c];
                            dK[c] += scale * dS * q[c];
                        }

                        pairs++;
                    }
                }
            }
        }

        return new BlockWork(pairs, 0, 0, d);
    }

    /// <summary>The gradients of a whole problem for output gradient <paramref name="outputGradient"/>: forward, then backward as one block.</summary>
    public static AttentionGradients Compute(AttentionInput input, float[] outputGradient, AttentionOptions options)
    {
        ArgumentNullException.ThrowIfNull(input);
        var shape = input.Shape;
        var heads = AttentionHeads.Of(shape);
        var (forward, _) = BlockwiseAttention.Compute(input, options);
        var positions = Enumerable.Range(0, shape.SeqLen).ToArray();
        var rows = BackwardRows.Create(new QueryChunk(input.Q, positions), outputGradient, forward);
        var queryGradient = new float[shape.QueryLength];
        var blockGradients = KeyValueGradients.Zero(heads, shape.SeqLen);
        Accumulate(rows, new KeyValueBlock(input.K, input.V, positions), heads, options, queryGradient, blockGradients);
        return new AttentionGradients(queryGradient, blockGradients.Keys, blockGradients.Values);
    }
}

/// <summary>The float64 oracle of attention's gradients that tests compare every backward against. Slow and simple on purpose.</summary>
public static class ReferenceBackward
{
    /// <summary>dQ, dK and dV in double precision for output gradient <paramref name="outputGradient"/>, dense over the whole problem.</summary>
    public static (double[] Queries, double[] Keys, double[] Values) Compute(AttentionInput input, float[] outputGradient, AttentionOptions options)
    {
        ArgumentNullException.ThrowIfNull(input);
        var shape = input.Shape;
        Guard.Length(outputGradient, shape.QueryLength, nameof(outputGradient));
        int n = shape.SeqLen, d = shape.HeadDim;
        double scale = options.Scale ?? shape.DefaultScale;
        var (output, lse) = ReferenceAttention.Compute(input, options);
        var dQ = new double[shape.QueryLength];
        var dK = new double[shape.KeyValueLength];
        var dV = new double[shape.KeyValueLength];
        for (var b = 0; b < shape.Batch; b++)
        {
            for (var h = 0; h < shape.Heads; h++)
            {
                var mask = options.MaskFor(b, h);
                var qOffset = ((b * shape.Heads) + h) * n * d;
                var kvOffset = ((b * shape.KvHeads) + (h / shape.GroupSize)) * n * d;
                for (var i = 0; i < n; i++)
                {
                    var row = (qOffset / d) + i;
                    if (double.IsNegativeInfinity(lse[row]))
                    {
                        continue;
                    }

                    double delta = 0;
                    for (var c = 0; c < d; c++)
                    {
                        delta += (double)outputGradient[qOffset + (i * d) + c] * output[qOffset + (i * d) + c];
                    }

                    for (var j = 0; j < n; j++)
                    {
                        if (mask is not null && !mask.Allows(i, j))
                        {
                            continue;
                        }

                        double score = 0, dP = 0;
                        for (var c = 0; c < d; c++)
                        {
                            score += (double)input.Q[qOffset + (i * d) + c] * input.K[kvOffset + (j * d) + c];
                            dP += (double)outputGradient[qOffset + (i * d) + c] * input.V[kvOffset + (j * d) + c];
                        }

                        var p = System.Math.Exp((score * scale) - lse[row]);
                        var dS = p * (dP - delta);
                        for (var c = 0; c < d; c++)
                        {
                            dV[kvOffset + (j * d) + c] += p * outputGradient[qOffset + (i * d) + c];
                            dQ[qOffset + (i * d) + c] += scale * dS * input.K[kvOffset + (j * d) + c];
                            dK[kvOffset + (j * d) + c] += scale * dS * input.Q[qOffset + (i * d) + c];
                        }
                    }
                }
            }
        }

        return (dQ, dK, dV);
    }
}
