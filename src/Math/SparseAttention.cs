using RingActors.Math.Masks;

namespace RingActors.Math;

/// <summary>What a density is a fraction of.</summary>
public enum DensityBasis
{
    /// <summary>All N² (query, key) pairs of each head.</summary>
    AllPairs,

    /// <summary>The N(N+1)/2 pairs with key ≤ query of each head (causal runs and causal patterns).</summary>
    CausalPairs,
}

/// <summary>
/// The outcome of <see cref="SparseAttention.Compute"/>: the exact attention restricted to the pattern, and what it cost.
/// Pair counts are summed over every (batch, head).
/// </summary>
/// <param name="Result">Output [B,H,N,d] and lse [B,H,N]; rows that attend nothing output zeros with lse −∞.</param>
/// <param name="Work">What the tiled kernel did: pairs and tiles computed, tiles skipped.</param>
/// <param name="AllowedPairs">Pairs the mask (pattern ∩ causal when causal) allows, counted exactly.</param>
/// <param name="BasisPairs">The pairs the density is a fraction of, as <paramref name="Basis"/> says.</param>
/// <param name="PeakWorkingBytes">Inputs, result, the pattern's tables and the kernel's buffers at their peak.</param>
public sealed record SparseAttentionResult(
    PartialAttention Result,
    BlockWork Work,
    long AllowedPairs,
    long BasisPairs,
    DensityBasis Basis,
    long PeakWorkingBytes)
{
    /// <summary>Pairs the kernel actually computed: every pair of each non-empty 64×128 tile, allowed or not.</summary>
    public long PairsComputed => Work.PairsComputed;

    /// <summary>Allowed pairs over <see cref="BasisPairs"/> (all N² pairs, or the causal N(N+1)/2 when causal).</summary>
    public double Density => BasisPairs == 0 ? 0 : (double)AllowedPairs / BasisPairs;

    /// <summary>FLOPs performed: 4·d per computed pair (ANCHORS.md §1).</summary>
    public double Flops => Work.Flops;

    /// <summary>FLOPs an ideal kernel would perform: 4·d per allowed pair.</summary>
    public double AllowedFlops => 4.0 * Work.HeadDim * AllowedPairs;

    /// <summary>Allowed over computed pairs: how much of the tile work was useful (1 when no tile is partly masked).</summary>
    public double TileEfficiency => PairsComputed == 0 ? 1 : (double)AllowedPairs / PairsComputed;
}

/// <summary>
/// Exact attention restricted to a sparse pattern, computed by <see cref="BlockwiseAttention"/> (which skips the tiles the
/// pattern leaves empty and masks only the partial ones), with the exact number of allowed pairs, density, FLOPs and memory.
/// </summary>
public static class SparseAttention
{
    /// <summary>
    /// Attention of <paramref name="input"/> restricted to <c>options.Pattern</c> (intersected with the causal mask when
    /// <c>options.Causal</c>), with its costs. Throws <see cref="ArgumentException"/> when there is no pattern or the pattern
    /// was built for another problem.
    /// </summary>
    public static SparseAttentionResult Compute(AttentionInput input, AttentionOptions options)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(options);
        var pattern = options.Pattern
            ?? throw new ArgumentException("sparse attention needs options.Pattern (BlockwiseAttention computes the dense case)", nameof(options));
        var shape = input.Shape;
        pattern.Validate(shape);
        var (result, work) = BlockwiseAttention.Compute(input, options);
        var causal = options.Causal || pattern.IsCausal;
        var heads = (long)shape.Batch * shape.Heads;
        var n = (long)shape.SeqLen;
        var basisPairs = heads * (causal ? n * (n + 1) / 2 : n * n);
        return new SparseAttentionResult(
            result,
            work,
            CountAllowedPairs(shape, options),
            basisPairs,
            causal ? DensityBasis.CausalPairs : DensityBasis.AllPairs,
            PeakWorkingBytes(shape, options));
    }

    /// <summary>
    /// The exact number of (query, key) pairs the options' mask allows, summed over every (batch, head): tiles the mask
    /// classifies Full or Empty count at once, only partial tiles are counted pair by pair.
    /// </summary>
    public static long CountAllowedPairs(AttentionShape shape, AttentionOptions options)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(options);
        shape.Validate();
        Guard.Positive(options.Threads, nameof(options.Threads));
        var n = (long)shape.SeqLen;
        if (options.SameMaskForAllHeads)
        {
            var mask = options.MaskFor(0, 0);
            var perHead = mask is null ? n * n : CountAllowedPairs(mask, shape.SeqLen, options.Threads);
            return perHead * shape.Batch * shape.Heads;
        }

        long total = 0;
        for (var b = 0; b < shape.Batch; b++)
        {
            for (var h = 0; h < shape.Heads; h++)
            {
                var mask = options.MaskFor(b, h);
                total += mask is null ? n * n : CountAllowedPairs(mask, shape.SeqLen, options.Threads);
            }
        }

        return total;
    }

    /// <summary>Pairs <paramref name="mask"/> allows among positions [0, <paramref name="seqLen"/>), counted exactly.</summary>
    public static long CountAllowedPairs(IAttentionMask mask, int seqLen, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(mask);
        Guard.Positive(seqLen, nameof(seqLen));
        Guard.Positive(threads, nameof(threads));
        var positions = Enumerable.Range(0, seqLen).ToArray();
        var queryTiles = (seqLen + BlockwiseAttention.QueryTile - 1) / BlockwiseAttention.QueryTile;
        long total = 0;
        Parallel.For(
            0,
            queryTiles,
            new ParallelOptions { MaxDegreeOfParallelism = threads },
            () => 0L,
            (tile, _, count) =>
            {
                var firstQuery = tile * BlockwiseAttention.QueryTile;
                var queries = positions.AsSpan(firstQuery, System.Math.Min(BlockwiseAttention.QueryTile, seqLen - firstQuery));
                return count + Coverage.CountAllowed(mask, queries, positions);
            },
            count => Interlocked.Add(ref total, count));
        return total;
    }

    /// <summary>
    /// Bytes sparse attention holds at its peak: Q, K, V, the output and lse, the positions, the pattern's own tables
    /// (<see cref="AttentionPattern.MemoryBytes"/>), and the blockwise kernel's buffers — one head's packed Kᵀ and V,
    /// per-thread 64×128 tiles, and the tile classification of a static pattern. Never N² unless the pattern stores it.
    /// </summary>
    public static long PeakWorkingBytes(AttentionShape shape, AttentionOptions options)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(options);
        shape.Validate();
        const int Align = 16;
        var n = shape.SeqLen;
        var d = shape.HeadDim;
        long paddedDim = RoundUp(d, Align);
        var queryTiles = (n + BlockwiseAttention.QueryTile - 1) / BlockwiseAttention.QueryTile;
        var keyTiles = (n + BlockwiseAttention.KeyTile - 1) / BlockwiseAttention.KeyTile;
        var workers = System.Math.Min(options.Threads, System.Math.Max(1, shape.GroupSize * queryTiles));

        var inputs = ((long)shape.QueryLength + (2L * shape.KeyValueLength)) * sizeof(float);
        var result = ((long)shape.QueryLength + ((long)shape.Batch * shape.Heads * n)) * sizeof(float);
        var positions = (long)n * sizeof(int);
        var packed = BlockwiseAttention.PackedFloats(n, d) * sizeof(float);
        var tiles = workers * ((BlockwiseAttention.QueryTile * (d + BlockwiseAttention.KeyTile + paddedDim + 2)) * sizeof(float));
        var coverage = options.Pattern is StaticPattern ? (long)queryTiles * keyTiles * sizeof(BlockCoverage) : 0;
        return inputs + result + positions + packed + tiles + coverage + (options.Pattern?.MemoryBytes ?? 0);
    }

    private static long RoundUp(long value, long multiple) => (value + multiple - 1) / multiple * multiple;
}
