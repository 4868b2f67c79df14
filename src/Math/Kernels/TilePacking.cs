using System.Runtime.CompilerServices;
using RingActors.Math.Masks;

namespace RingActors.Math.Kernels;

/// <summary>
/// The layouts the tile products read, shared by the forward and the backward kernels so both pack keys, values and query
/// tiles the same way: transposed tiles ([tile][d][width]) for a right-hand side walked along tokens, zero-padded rows
/// ([tokens][paddedDim]) for one walked along the head dimension.
/// </summary>
internal static class TilePacking
{
    /// <summary>
    /// into[(c · stride) + t] = source[(t · d) + c] for t &lt; tokens, c &lt; d; columns [tokens, stride) of each of the d rows
    /// are zeroed, so a product that reads padded tokens adds nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose(ReadOnlySpan<float> source, int tokens, int d, Span<float> into, int stride)
    {
        Guard.Length(source, (long)tokens * d, nameof(source));
        if (into.Length < d * stride || tokens > stride)
        {
            throw new ArgumentException($"{nameof(into)} holds {into.Length} elements, {tokens} tokens × {d} need {d} rows of stride {stride} ≥ tokens", nameof(into));
        }

        for (var c = 0; c < d; c++)
        {
            var row = into.Slice(c * stride, stride);
            for (var t = 0; t < tokens; t++)
            {
                row[t] = source[(t * d) + c];
            }

            row[tokens..].Clear();
        }
    }

    /// <summary>
    /// Kᵀ (or Vᵀ) tile by tile, [tile][d][<paramref name="stride"/>] with <paramref name="tileWidth"/> tokens a row: a
    /// micro-kernel walks rows of one tile (a [d][N] layout strides by N·4 bytes, a multiple of 4 KiB that maps every row to
    /// the same L1 sets; <see cref="ConflictFreeStride"/> keeps a tile's rows apart too); padding zeroed.
    /// </summary>
    public static void TransposedTiles(ReadOnlySpan<float> source, int tokens, int d, int tileWidth, int stride, Span<float> into)
    {
        var tiles = (tokens + tileWidth - 1) / tileWidth;
        for (var tile = 0; tile < tiles; tile++)
        {
            var first = tile * tileWidth;
            var count = System.Math.Min(tileWidth, tokens - first);
            Transpose(source.Slice(first * d, count * d), count, d, into.Slice(tile * d * stride, d * stride), stride);
        }
    }

    /// <summary>
    /// A row stride (in floats, a multiple of 16) that a micro-kernel can walk down without L1 set conflicts: strides of a
    /// multiple of 512 bytes get one more 64-byte line. A 4-vector register block reads 256 bytes of each of up to 128 rows;
    /// at a 512-byte stride those rows fall in half of the 64 sets, 16 lines a set against 12 ways (Intel's 48 KiB L1)
    /// or 8 (Zen's 32 KiB), and are evicted before the next row group reuses them. Measured on an Intel Xeon (family 6
    /// model 207), one thread, N = 4096, best of 10 in turns: the forward at d = 128 (Kᵀ and V padded) ran 1.38× faster;
    /// at d = 64 (Kᵀ padded, V rows of 256 bytes left alone) the same as before.
    /// </summary>
    public static int ConflictFreeStride(int floats) => floats % 128 == 0 ? floats + 16 : floats;

    /// <summary>Rows of d floats copied to rows of <paramref name="paddedDim"/>, then zero rows up to <paramref name="paddedTokens"/>.</summary>
    public static void PaddedRows(ReadOnlySpan<float> source, int tokens, int d, int paddedDim, int paddedTokens, Span<float> into)
    {
        Guard.Length(source, (long)tokens * d, nameof(source));
        for (var t = 0; t < tokens; t++)
        {
            var row = into.Slice(t * paddedDim, paddedDim);
            source.Slice(t * d, d).CopyTo(row);
            row[d..].Clear();
        }

        into.Slice(tokens * paddedDim, (paddedTokens - tokens) * paddedDim).Clear();
    }

    /// <summary>The coverage of every (query tile, key tile) pair, row-major by query tile: one classification serves every head.</summary>
    public static BlockCoverage[] ClassifyTiles(IAttentionMask mask, int[] queryPositions, int queryTile, int[] keyPositions, int keyTile)
    {
        var queryTiles = (queryPositions.Length + queryTile - 1) / queryTile;
        var keyTiles = (keyPositions.Length + keyTile - 1) / keyTile;
        var coverage = new BlockCoverage[queryTiles * keyTiles];
        for (var qt = 0; qt < queryTiles; qt++)
        {
            var queries = Slice(queryPositions, qt, queryTile);
            for (var kt = 0; kt < keyTiles; kt++)
            {
                coverage[(qt * keyTiles) + kt] = mask.Classify(queries, Slice(keyPositions, kt, keyTile));
            }
        }

        return coverage;
    }

    /// <summary>
    /// The coverage of one (query tile, key tile) pair, the same for the forward and the backward: full without a mask,
    /// entry <paramref name="pair"/> of <paramref name="shared"/> (<see cref="ClassifyTiles"/>, row-major by query tile) when
    /// every head shares the mask, else classified now from the tiles' positions.
    /// </summary>
    public static BlockCoverage CoverageOf(IAttentionMask? mask, BlockCoverage[]? shared, int pair, ReadOnlySpan<int> queries, ReadOnlySpan<int> keys) =>
        mask is null ? BlockCoverage.Full
        : shared is not null ? shared[pair]
        : mask.Classify(queries, keys);

    /// <summary>
    /// The columns of a key tile the kernels compute: all of <paramref name="keys"/> but, on a partial tile, those at its end
    /// that <paramref name="mask"/> refuses to every query. A causal tile on the diagonal of a contiguous layout is then half
    /// a tile: N = 4096 has 1,056 tiles of 64 × 128 to compute, 32 of them on that diagonal. Causal N = 4096, d = 64, in-process
    /// A/B in turns on an AMD EPYC (family 25 model 17): one thread +1.7–1.9% on AVX-512 and up to +1.8% on AVX2, two
    /// threads within ±1%. 0 for an empty tile, and for a partial one that attends none of its keys: both are skipped.
    /// </summary>
    public static int AttendedColumns(IAttentionMask? mask, BlockCoverage coverage, ReadOnlySpan<int> queries, ReadOnlySpan<int> keys) =>
        coverage switch
        {
            BlockCoverage.Empty => 0,
            BlockCoverage.Partial => mask!.AttendedKeys(queries, keys),
            _ => keys.Length,
        };

    /// <summary>The positions of tile <paramref name="tile"/> of width <paramref name="width"/> (the last one may be short).</summary>
    public static ReadOnlySpan<int> Slice(int[] positions, int tile, int width)
    {
        var start = tile * width;
        return positions.AsSpan(start, System.Math.Min(width, positions.Length - start));
    }
}
