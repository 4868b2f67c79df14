namespace RingActors.Math;

/// <summary>
/// One block's work of a ring device in a chosen <see cref="PartialPrecision"/>: the block's partial output (forward) or
/// gradient contributions (backward) are computed on their own, rounded to that type, then merged in fp32 into the
/// device's accumulators. Fp32 computes straight into the accumulators (no rounding, no copy).
/// </summary>
public static class BlockPartials
{
    // A device computes block after block of the same shape on its compute thread: each thread keeps one set of scratch
    // partials and reuses it (cleared), so bf16 runs allocate nothing per block.
    [ThreadStatic]
    private static PartialAttention? _forwardPartScratch;

    [ThreadStatic]
    private static float[]? _queryPartScratch;

    [ThreadStatic]
    private static float[]? _keyPartScratch;

    [ThreadStatic]
    private static float[]? _valuePartScratch;

    /// <summary>The forward of <paramref name="queries"/> over <paramref name="block"/>, merged into <paramref name="into"/>.</summary>
    public static BlockWork AccumulateForward(QueryChunk queries, KeyValueBlock block, AttentionHeads heads, AttentionOptions options, PartialAttention into, PartialPrecision precision)
    {
        ArgumentNullException.ThrowIfNull(into);
        if (precision == PartialPrecision.Fp32)
        {
            return BlockwiseAttention.Accumulate(queries, block, heads, options, into);
        }

        var partial = _forwardPartScratch;
        if (partial is null || partial.Batch != into.Batch || partial.Heads != into.Heads || partial.Tokens != into.Tokens || partial.HeadDim != into.HeadDim)
        {
            partial = _forwardPartScratch = new PartialAttention(into.Batch, into.Heads, into.Tokens, into.HeadDim);
        }
        else
        {
            partial.Reset();
        }

        var work = BlockwiseAttention.Accumulate(queries, block, heads, options, partial);
        Bf16.Apply(precision, partial.Output); // the output is kept in the reduced type; the lse stays fp32, as peers keep it
        SoftmaxMerge.Merge(into, partial);
        return work;
    }

    /// <summary>
    /// The backward of <paramref name="rows"/> against <paramref name="block"/>: its dQ contribution added to
    /// <paramref name="queryGradient"/>, its dK and dV contributions to <paramref name="blockGradients"/>.
    /// </summary>
    public static BlockWork AccumulateBackward(BackwardRows rows, KeyValueBlock block, AttentionHeads heads, AttentionOptions options, float[] queryGradient, KeyValueGradients blockGradients, PartialPrecision precision)
    {
        ArgumentNullException.ThrowIfNull(queryGradient);
        ArgumentNullException.ThrowIfNull(blockGradients);
        if (precision == PartialPrecision.Fp32)
        {
            return BlockwiseBackward.Accumulate(rows, block, heads, options, queryGradient, blockGradients);
        }

        var queryPart = Zeroed(ref _queryPartScratch, queryGradient.Length);
        var blockPart = new KeyValueGradients(Zeroed(ref _keyPartScratch, blockGradients.Keys.Length), Zeroed(ref _valuePartScratch, blockGradients.Values.Length));
        var work = BlockwiseBackward.Accumulate(rows, block, heads, options, queryPart, blockPart);
        AddRounded(precision, queryPart, queryGradient);
        AddRounded(precision, blockPart.Keys, blockGradients.Keys);
        AddRounded(precision, blockPart.Values, blockGradients.Values);
        return work;
    }

    private static float[] Zeroed(ref float[]? cached, int length)
    {
        if (cached is null || cached.Length != length)
        {
            return cached = new float[length];
        }

        Array.Clear(cached);
        return cached;
    }

    private static void AddRounded(PartialPrecision precision, float[] contribution, float[] accumulator)
    {
        Bf16.Apply(precision, contribution);
        System.Numerics.Tensors.TensorPrimitives.Add(accumulator, contribution, accumulator);
    }
}
