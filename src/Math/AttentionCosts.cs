namespace RingActors.Math;

/// <summary>
/// Work, traffic and memory of each attention method, by the textbook model of each algorithm (fp32 bytes).
/// Bytes moved counts main-memory traffic an un-cached implementation performs: dense writes and reads its N×N
/// scores twice (S, then P); a tiled kernel streams K and V once per query tile and never stores scores.
/// </summary>
public static class AttentionCosts
{
    /// <summary>FLOPs of dense attention: every pair, causal or not (4·d per pair).</summary>
    public static double DenseFlops(AttentionShape shape) => 4.0 * shape.HeadDim * shape.SeqLen * (double)shape.SeqLen * shape.Batch * shape.Heads;

    /// <summary>Main-memory bytes of dense attention: inputs, output, and S written then read, P written then read.</summary>
    public static double DenseBytesMoved(AttentionShape shape) =>
        (IoElements(shape) + (4.0 * shape.Batch * shape.Heads * shape.SeqLen * (double)shape.SeqLen)) * sizeof(float);

    /// <summary>
    /// Main-memory bytes of a tiled kernel: Q and O once, K and V once per (query tile, key tile) pair it computed.
    /// </summary>
    public static double BlockwiseBytesMoved(AttentionShape shape, BlockWork work)
    {
        double keyValueBytesPerTile = 2.0 * BlockwiseAttention.KeyTile * shape.HeadDim;
        return (IoElements(shape) + (work.TilesComputed * keyValueBytesPerTile)) * sizeof(float);
    }

    /// <summary>
    /// Peak working bytes of the tiled kernel on a whole problem: inputs, output and lse, one packed K/V head of a block of
    /// <paramref name="blockTokens"/> keys, and each thread's tiles.
    /// </summary>
    public static long BlockwisePeakBytes(AttentionShape shape, int blockTokens, int threads)
    {
        var paddedDim = (shape.HeadDim + 15) / 16 * 16;
        var packed = BlockwiseAttention.PackedFloats(System.Math.Min(blockTokens, shape.SeqLen), shape.HeadDim);
        long tiles = (long)threads * ((BlockwiseAttention.QueryTile * (shape.HeadDim + paddedDim + 2)) + (BlockwiseAttention.QueryTile * BlockwiseAttention.KeyTile));
        long io = (2L * shape.QueryLength) + (2L * shape.KeyValueLength) + ((long)shape.Batch * shape.Heads * shape.SeqLen);
        return (io + packed + tiles) * sizeof(float);
    }

    private static double IoElements(AttentionShape shape) => (2.0 * shape.QueryLength) + (2.0 * shape.KeyValueLength);
}
