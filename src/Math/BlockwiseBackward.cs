using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using RingActors.Math.Kernels;
using RingActors.Math.Masks;

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
    /// <summary>Query rows of a tile: the forward's, so both passes see the same tile classification.</summary>
    public const int QueryTile = BlockwiseAttention.QueryTile;

    /// <summary>Keys of a tile: the forward's.</summary>
    public const int KeyTile = BlockwiseAttention.KeyTile;

    // Most key tiles a panel shares one pass over the query tiles (the panel's stationary data is bounded in Run).
    private const int MaxPanelTiles = 4;

    /// <summary>
    /// Bytes of scratch one call takes on <paramref name="threads"/> threads for <paramref name="queryTokens"/> rows of a group
    /// of <paramref name="groupSize"/> query heads against <paramref name="keyTokens"/> keys (an upper bound over both vector
    /// paths): K, Kᵀ and Vᵀ packed; Q, dO, lse and D of the group's query tiles packed; per worker P and dS of a tile, dKᵀ and
    /// dVᵀ of a panel and a dQ of every query tile. For the memory estimate of a backward job.
    /// </summary>
    public static long ScratchBytes(int groupSize, int queryTokens, int keyTokens, int headDim, int threads)
    {
        Guard.Positive(groupSize, nameof(groupSize));
        Guard.Positive(headDim, nameof(headDim));
        Guard.Positive(threads, nameof(threads));
        long padded = RoundUp(headDim, 16);
        long dimRows = System.Math.Max(RoundUp(headDim, 4), RoundUp(headDim, 6));
        long keyTiles = (System.Math.Max(keyTokens, 0) + KeyTile - 1) / KeyTile;
        long items = (long)groupSize * ((System.Math.Max(queryTokens, 0) + QueryTile - 1) / QueryTile);
        long tileStride = TilePacking.ConflictFreeStride(KeyTile);
        long keys = (2 * keyTiles * headDim * tileStride) + (RoundUp(System.Math.Max(keyTokens, 0), 16) * TilePacking.ConflictFreeStride((int)padded));
        long queries = (2 * items * QueryTile * padded) + (2 * items * QueryTile);
        long worker = (2L * QueryTile * tileStride) + (2 * MaxPanelTiles * dimRows * tileStride) + (items * QueryTile * padded);
        return (keys + queries + (System.Math.Max(1, System.Math.Min(threads, keyTiles)) * worker)) * sizeof(float);
    }

    /// <summary>
    /// Adds this block's contributions to <paramref name="queryGradient"/> (dQ of the chunk, laid out as its queries) and to
    /// <paramref name="blockGradients"/> (dK and dV of the block).
    /// </summary>
    public static BlockWork Accumulate(BackwardRows rows, KeyValueBlock block, AttentionHeads heads, AttentionOptions options, float[] queryGradient, KeyValueGradients blockGradients) =>
        Accumulate(rows, block, heads, options, queryGradient, blockGradients, KernelIsa.Selected);

    /// <summary>
    /// <see cref="Accumulate(BackwardRows, KeyValueBlock, AttentionHeads, AttentionOptions, float[], KeyValueGradients)"/> on a
    /// given vector path, so specs check both micro-kernel shapes on one machine (an unaccelerated Vector512 is emulated: exact, slow).
    /// </summary>
    internal static BlockWork Accumulate(BackwardRows rows, KeyValueBlock block, AttentionHeads heads, AttentionOptions options, float[] queryGradient, KeyValueGradients blockGradients, VectorIsa isa)
    {
        Validate(rows, block, heads, options, queryGradient, blockGradients);
        if (rows.Tokens == 0 || block.Tokens == 0)
        {
            return new BlockWork(0, 0, 0, heads.HeadDim);
        }

        return isa == VectorIsa.Vector512
            ? new Run<Simd512, Vector512<float>, Kernel4x4<Simd512, Vector512<float>>, Kernel4x4<Simd512, Vector512<float>>>(rows, block, heads, options, queryGradient, blockGradients).Execute()
            : new Run<Simd256, Vector256<float>, Kernel6x2<Simd256, Vector256<float>>, Kernel4x2<Simd256, Vector256<float>>>(rows, block, heads, options, queryGradient, blockGradients).Execute();
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

    private static void Validate(BackwardRows rows, KeyValueBlock block, AttentionHeads heads, AttentionOptions options, float[] queryGradient, KeyValueGradients blockGradients)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(queryGradient);
        ArgumentNullException.ThrowIfNull(blockGradients);
        heads.WithTokens(1).Validate();
        Guard.Positive(options.Threads, nameof(options.Threads));
        if (options.Scale is { } scale && !float.IsFinite(scale))
        {
            throw new ArgumentException($"scale must be finite, got {scale}", nameof(options));
        }

        var queryLength = (long)heads.Batch * heads.Heads * rows.Tokens * heads.HeadDim;
        var rowCount = (long)heads.Batch * heads.Heads * rows.Tokens;
        var keyLength = (long)heads.Batch * heads.KvHeads * block.Tokens * heads.HeadDim;
        Guard.Length(rows.Queries.Data, queryLength, nameof(rows));
        Guard.Length(rows.OutputGradient, queryLength, nameof(rows));
        Guard.Length(rows.Lse, rowCount, nameof(rows));
        Guard.Length(rows.Delta, rowCount, nameof(rows));
        Guard.Length(queryGradient, queryLength, nameof(queryGradient));
        Guard.Length(block.Keys, keyLength, "keys");
        Guard.Length(block.Values, keyLength, "values");
        Guard.Length(blockGradients.Keys, keyLength, nameof(blockGradients));
        Guard.Length(blockGradients.Values, keyLength, nameof(blockGradients));
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>
    /// One worker's buffers: P and dS of one tile, dKᵀ and dVᵀ of the key tiles of the panel it works on, and its own dQ of
    /// every query tile of the kv head's group ([item][64][paddedDim]), summed over workers at the end of the kv head.
    /// </summary>
    private sealed class Scratch : IDisposable
    {
        public Scratch(int dimRows, int panelTiles, int tileStride, int queryGradientLength)
        {
            Probabilities = new AlignedRental(QueryTile * tileStride);
            ScoreGradient = new AlignedRental(QueryTile * tileStride);
            KeyGradient = new AlignedRental(panelTiles * dimRows * tileStride);
            ValueGradient = new AlignedRental(panelTiles * dimRows * tileStride);
            Cleared = new bool[panelTiles];
            QueryGradient = Rent(queryGradientLength);
            QueryGradientLength = queryGradientLength;
        }

        public AlignedRental Probabilities { get; }

        public AlignedRental ScoreGradient { get; }

        /// <summary>dKᵀ of the panel's key tiles, [tile][dimRows][tile stride].</summary>
        public AlignedRental KeyGradient { get; }

        /// <summary>dVᵀ of the panel's key tiles, [tile][dimRows][tile stride].</summary>
        public AlignedRental ValueGradient { get; }

        /// <summary>Which of the panel's tiles have their dKᵀ and dVᵀ cleared, i.e. met a query tile that is not masked out.</summary>
        public bool[] Cleared { get; }

        /// <summary>dQ of every query item, [item][64][paddedDim].</summary>
        public float[] QueryGradient { get; }

        public int QueryGradientLength { get; }

        public long Pairs { get; set; }

        public long Tiles { get; set; }

        public long Skipped { get; set; }

        public void Dispose()
        {
            foreach (var buffer in new[] { Probabilities, ScoreGradient, KeyGradient, ValueGradient })
            {
                buffer.Dispose();
            }

            ArrayPool<float>.Shared.Return(QueryGradient);
        }

        private static float[] Rent(int length) => ArrayPool<float>.Shared.Rent(length);
    }

    /// <summary>
    /// The tiled backward of one call, key tiles outside, query tiles inside (FlashAttention-2's backward order). Per
    /// (batch, kv head): K and V packed once (Kᵀ and Vᵀ by tiles for S = Q·Kᵀ and dP = dO·Vᵀ, K as padded rows for
    /// dQ += dS·K), and the query tiles of every head of the group packed once (Q and dO as zero-padded rows, lse, D). A
    /// worker's unit is a panel of key tiles (as many as fit <see cref="PanelBytes"/>): their dKᵀ and dVᵀ ([d][128] each)
    /// and K and V tiles stay in L2 while every query tile passes over them, each query tile against all the panel's key
    /// tiles in turn, and are written to the block's dK and dV once. dVᵀ += dOᵀ·P and dKᵀ += Qᵀ·dS read P and dS as they are
    /// stored and dO and Q through a depth stride.
    /// </summary>
    /// <remarks>
    /// The other order (query tiles outside) kept dQ still and streamed five key-side arrays per tile, two of them read and
    /// written (dKᵀ, dVᵀ): on AVX2 at N=8192 that stalled the transposed products on memory (docs/benchmarks.md). Here the
    /// streamed side is two query-side tiles read and dQ read and written. Threads: parallel over panels, each dK/dV row
    /// written by one worker; each worker sums dQ in its own buffer, and the buffers are added in worker order. Panels are dealt
    /// round-robin (worker t takes panels t, t + T, …), which balances a causal triangle and makes the sums, and so the
    /// result, the same on every run. The price is memory: Q and dO of the group packed (2·G·Nq·paddedDim floats) and a dQ
    /// per worker (G·Nq·paddedDim), where the other order held 2·Nk·d per worker; reading Q and dO in place when d is a
    /// multiple of 16 would save the packs.
    /// </remarks>
    private sealed class Run<TOps, TVec, TMain, TRowTail>
        where TOps : struct, ISimd<TVec>
        where TVec : struct
        where TMain : struct, IMicroKernel
        where TRowTail : struct, IMicroKernel
    {
        private const int ColumnAlign = 16;

        // A panel's stationary data, per key tile Kᵀ, Vᵀ, K, dKᵀ and dVᵀ (5 · 128 · d floats), kept within 384 KiB so it stays
        // in L2 (512 KiB on Zen 3, 1 MiB on Zen 4) beside the streamed query tiles: 2 tiles at d = 64, 1 at d = 128. Each query
        // tile streamed in is then used against every tile of the panel.
        private const int PanelBytes = 384 * 1024;
        private readonly BackwardRows _rows;
        private readonly KeyValueBlock _block;
        private readonly AttentionHeads _heads;
        private readonly AttentionOptions _options;
        private readonly float[] _queryGradient;
        private readonly KeyValueGradients _blockGradients;
        private readonly int _d;
        private readonly int _paddedDim;
        private readonly int _tileStride;
        private readonly int _keyStride;
        private readonly int _dimRows;
        private readonly int _queryTokens;
        private readonly int _keyTokens;
        private readonly int _paddedKeys;
        private readonly int _queryTiles;
        private readonly int _keyTiles;
        private readonly int _queryItems;
        private readonly int _panelTiles;
        private readonly int _panels;
        private readonly float _scale;
        private readonly IAttentionMask? _sharedMask;
        private readonly BlockCoverage[]? _sharedCoverage;
        private readonly IAttentionMask?[] _itemMasks;
        private AlignedRental _keysTransposed = null!;
        private AlignedRental _valuesTransposed = null!;
        private AlignedRental _keys = null!;
        private float[] _queries = [];
        private float[] _outputGradient = [];
        private float[] _lse = [];
        private float[] _delta = [];
        private int _batch;
        private int _kvHead;

        public Run(BackwardRows rows, KeyValueBlock block, AttentionHeads heads, AttentionOptions options, float[] queryGradient, KeyValueGradients blockGradients)
        {
            _rows = rows;
            _block = block;
            _heads = heads;
            _options = options;
            _queryGradient = queryGradient;
            _blockGradients = blockGradients;
            _d = heads.HeadDim;
            _paddedDim = RoundUp(_d, ColumnAlign);

            // Rows of 128 keys (Kᵀ, Vᵀ, P, dS, dKᵀ, dVᵀ) and K's rows at d = 128 are 512 bytes: padded apart (TilePacking.ConflictFreeStride).
            _tileStride = TilePacking.ConflictFreeStride(KeyTile);
            _keyStride = TilePacking.ConflictFreeStride(_paddedDim);
            _dimRows = RoundUp(_d, TileProduct<TOps, TVec, TMain, TRowTail>.RowStep);
            _queryTokens = rows.Tokens;
            _keyTokens = block.Tokens;
            _paddedKeys = RoundUp(_keyTokens, ColumnAlign);
            _queryTiles = (_queryTokens + QueryTile - 1) / QueryTile;
            _keyTiles = (_keyTokens + KeyTile - 1) / KeyTile;
            _queryItems = _heads.GroupSize * _queryTiles;
            _itemMasks = new IAttentionMask?[_heads.GroupSize];
            _panelTiles = System.Math.Clamp(PanelBytes / (5 * KeyTile * _d * sizeof(float)), 1, MaxPanelTiles);
            _panels = (_keyTiles + _panelTiles - 1) / _panelTiles;
            _scale = options.Scale ?? 1f / MathF.Sqrt(_d);
            if (options.SameMaskForAllHeads)
            {
                _sharedMask = options.MaskFor(0, 0);
                _sharedCoverage = _sharedMask is null ? null : TilePacking.ClassifyTiles(_sharedMask, _rows.Queries.Positions, QueryTile, _block.Positions, KeyTile);
            }
        }

        public BlockWork Execute()
        {
            _keysTransposed = new AlignedRental(_keyTiles * _d * _tileStride);
            _valuesTransposed = new AlignedRental(_keyTiles * _d * _tileStride);
            _keys = new AlignedRental(_paddedKeys * _keyStride);
            _queries = Rent(_queryItems * QueryTile * _paddedDim);
            _outputGradient = Rent(_queryItems * QueryTile * _paddedDim);
            _lse = Rent(_queryItems * QueryTile);
            _delta = Rent(_queryItems * QueryTile);
            var workers = new Scratch[System.Math.Min(_options.Threads, _panels)];
            try
            {
                for (var t = 0; t < workers.Length; t++)
                {
                    workers[t] = new Scratch(_dimRows, _panelTiles, _tileStride, _queryItems * QueryTile * _paddedDim);
                }

                for (_batch = 0; _batch < _heads.Batch; _batch++)
                {
                    for (_kvHead = 0; _kvHead < _heads.KvHeads; _kvHead++)
                    {
                        PackKeyValueHead();
                        PackQueryHeads();
                        foreach (var worker in workers)
                        {
                            worker.QueryGradient.AsSpan(0, worker.QueryGradientLength).Clear();
                        }

                        if (workers.Length > 1)
                        {
                            Parallel.For(0, workers.Length, new ParallelOptions { MaxDegreeOfParallelism = workers.Length }, t =>
                            {
                                for (var panel = t; panel < _panels; panel += workers.Length)
                                {
                                    ComputePanel(panel, workers[t]);
                                }
                            });
                        }
                        else
                        {
                            for (var panel = 0; panel < _panels; panel++)
                            {
                                ComputePanel(panel, workers[0]);
                            }
                        }

                        StoreQueryGradients(workers);
                    }
                }

                long pairs = 0, tiles = 0, skipped = 0;
                foreach (var worker in workers)
                {
                    pairs += worker.Pairs;
                    tiles += worker.Tiles;
                    skipped += worker.Skipped;
                }

                return new BlockWork(pairs, tiles, skipped, _d);
            }
            finally
            {
                foreach (var worker in workers)
                {
                    worker?.Dispose();
                }

                _keysTransposed.Dispose();
                _valuesTransposed.Dispose();
                _keys.Dispose();
                foreach (var buffer in new[] { _queries, _outputGradient, _lse, _delta })
                {
                    ArrayPool<float>.Shared.Return(buffer);
                }
            }
        }

        private static float[] Rent(int length) => ArrayPool<float>.Shared.Rent(length);

        private ReadOnlySpan<int> QueryPositions(int queryTile) => TilePacking.Slice(_rows.Queries.Positions, queryTile, QueryTile);

        private ReadOnlySpan<int> KeyPositions(int keyTile) => TilePacking.Slice(_block.Positions, keyTile, KeyTile);

        private int KvOffset => ((_batch * _heads.KvHeads) + _kvHead) * _keyTokens * _d;

        private void PackKeyValueHead()
        {
            var keys = _block.Keys.AsSpan(KvOffset, _keyTokens * _d);
            TilePacking.TransposedTiles(keys, _keyTokens, _d, KeyTile, _tileStride, _keysTransposed.Slice(0, _keysTransposed.Length));
            TilePacking.TransposedTiles(_block.Values.AsSpan(KvOffset, _keyTokens * _d), _keyTokens, _d, KeyTile, _tileStride, _valuesTransposed.Slice(0, _valuesTransposed.Length));
            TilePacking.PaddedRows(keys, _keyTokens, _d, _keyStride, _paddedKeys, _keys.Slice(0, _keys.Length));
        }

        /// <summary>Every query tile of the group's heads (item = group · queryTiles + queryTile): Q and dO as zero-padded rows of paddedDim, lse and D.</summary>
        private void PackQueryHeads()
        {
            for (var group = 0; group < _heads.GroupSize; group++)
            {
                var head = (_kvHead * _heads.GroupSize) + group;
                _itemMasks[group] = _options.SameMaskForAllHeads ? _sharedMask : _options.MaskFor(_batch, head);
                for (var queryTile = 0; queryTile < _queryTiles; queryTile++)
                {
                    var item = (group * _queryTiles) + queryTile;
                    var firstRow = queryTile * QueryTile;
                    var rows = System.Math.Min(QueryTile, _queryTokens - firstRow);
                    var rowBase = (((_batch * _heads.Heads) + head) * _queryTokens) + firstRow;
                    var queries = _rows.Queries.Data.AsSpan(rowBase * _d, rows * _d);
                    var outputGradient = _rows.OutputGradient.AsSpan(rowBase * _d, rows * _d);
                    TilePacking.PaddedRows(queries, rows, _d, _paddedDim, QueryTile, _queries.AsSpan(item * QueryTile * _paddedDim, QueryTile * _paddedDim));
                    TilePacking.PaddedRows(outputGradient, rows, _d, _paddedDim, QueryTile, _outputGradient.AsSpan(item * QueryTile * _paddedDim, QueryTile * _paddedDim));
                    _rows.Lse.AsSpan(rowBase, rows).CopyTo(_lse.AsSpan(item * QueryTile, rows));
                    _rows.Delta.AsSpan(rowBase, rows).CopyTo(_delta.AsSpan(item * QueryTile, rows));
                }
            }
        }

        /// <summary>The workers' dQ summed in worker order (the same every run) and added to the caller's.</summary>
        private void StoreQueryGradients(Scratch[] workers)
        {
            for (var group = 0; group < _heads.GroupSize; group++)
            {
                var head = (_kvHead * _heads.GroupSize) + group;
                var headBase = ((_batch * _heads.Heads) + head) * _queryTokens;
                for (var row = 0; row < _queryTokens; row++)
                {
                    var target = _queryGradient.AsSpan((headBase + row) * _d, _d);
                    var source = ((group * _queryTiles * QueryTile) + row) * _paddedDim;
                    foreach (var worker in workers)
                    {
                        TensorPrimitives.Add(target, worker.QueryGradient.AsSpan(source, _d), target);
                    }
                }
            }
        }

        // Full optimisation from the first call: tiering would run the first blocks of every job as unoptimised code.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void ComputePanel(int panel, Scratch scratch)
        {
            var firstTile = panel * _panelTiles;
            var tiles = System.Math.Min(_panelTiles, _keyTiles - firstTile);
            Array.Clear(scratch.Cleared);
            for (var item = 0; item < _queryItems; item++)
            {
                var group = item / _queryTiles;
                var queryTile = item % _queryTiles;
                var mask = _itemMasks[group];
                var qPositions = QueryPositions(queryTile);
                var rows = System.Math.Min(QueryTile, _queryTokens - (queryTile * QueryTile));
                var paddedRows = RoundUp(rows, TileProduct<TOps, TVec, TMain, TRowTail>.RowStep);
                for (var slot = 0; slot < tiles; slot++)
                {
                    var keyTile = firstTile + slot;
                    var kPositions = KeyPositions(keyTile);
                    var coverage = TilePacking.CoverageOf(mask, _sharedCoverage, (queryTile * _keyTiles) + keyTile, qPositions, kPositions);
                    var columns = TilePacking.AttendedColumns(mask, coverage, qPositions, kPositions);
                    if (columns == 0)
                    {
                        scratch.Skipped++;
                        continue;
                    }

                    if (!scratch.Cleared[slot])
                    {
                        scratch.KeyGradient.Slice(slot * _dimRows * _tileStride, _dimRows * _tileStride).Clear();
                        scratch.ValueGradient.Slice(slot * _dimRows * _tileStride, _dimRows * _tileStride).Clear();
                        scratch.Cleared[slot] = true;
                    }

                    var firstKey = keyTile * KeyTile;
                    scratch.Tiles++;
                    scratch.Pairs += (long)rows * columns;
                    ComputeTile(scratch, item, slot, keyTile, firstKey, rows, paddedRows, columns, RoundUp(columns, ColumnAlign), qPositions, coverage == BlockCoverage.Partial ? mask : null);
                }
            }

            for (var slot = 0; slot < tiles; slot++)
            {
                if (scratch.Cleared[slot])
                {
                    var firstKey = (firstTile + slot) * KeyTile;
                    StoreKeyValueGradients(scratch, slot, firstKey, System.Math.Min(KeyTile, _keyTokens - firstKey));
                }
            }
        }

        /// <summary>The key tile's dKᵀ and dVᵀ transposed back and added to the block's dK and dV (rows only this worker writes).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void StoreKeyValueGradients(Scratch scratch, int slot, int firstKey, int columns)
        {
            var dK = _blockGradients.Keys.AsSpan(KvOffset + (firstKey * _d), columns * _d);
            var dV = _blockGradients.Values.AsSpan(KvOffset + (firstKey * _d), columns * _d);
            for (var c = 0; c < _d; c++)
            {
                var keyRow = scratch.KeyGradient.Slice(((slot * _dimRows) + c) * _tileStride, columns);
                var valueRow = scratch.ValueGradient.Slice(((slot * _dimRows) + c) * _tileStride, columns);
                for (var j = 0; j < columns; j++)
                {
                    dK[(j * _d) + c] += keyRow[j];
                    dV[(j * _d) + c] += valueRow[j];
                }
            }
        }

        /// <summary>
        /// One tile: S = Q·Kᵀ and dP = dO·Vᵀ; P = exp(scale·S − lse), dS = scale·P∘(dP − D); dVᵀ += dOᵀ·P, dKᵀ += Qᵀ·dS,
        /// dQ += dS·K. Scale is folded into dS once, so the three products that use dS need no scaling of their own.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void ComputeTile(Scratch scratch, int item, int slot, int keyTile, int firstKey, int rows, int paddedRows, int columns, int paddedColumns, ReadOnlySpan<int> qPositions, IAttentionMask? mask)
        {
            ref var p = ref scratch.Probabilities.At(0);
            ref var dS = ref scratch.ScoreGradient.At(0);
            var tileOffset = keyTile * _d * _tileStride;
            var rowsOffset = item * QueryTile * _paddedDim;
            var accumulatorOffset = slot * _dimRows * _tileStride;
            TileProduct<TOps, TVec, TMain, TRowTail>.Multiply(
                ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_queries), rowsOffset), _paddedDim,
                ref _keysTransposed.At(tileOffset), _tileStride,
                ref p, _tileStride, paddedRows, paddedColumns, _d);
            TileProduct<TOps, TVec, TMain, TRowTail>.Multiply(
                ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_outputGradient), rowsOffset), _paddedDim,
                ref _valuesTransposed.At(tileOffset), _tileStride,
                ref dS, _tileStride, paddedRows, paddedColumns, _d);

            ProbabilitiesAndScoreGradient(scratch, _lse.AsSpan(item * QueryTile, QueryTile), _delta.AsSpan(item * QueryTile, QueryTile), rows, paddedRows, firstKey, columns, paddedColumns, qPositions, mask);

            TileProduct<TOps, TVec, TMain, TRowTail>.MultiplyAddTransposed(
                ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_outputGradient), rowsOffset), _paddedDim,
                ref p, _tileStride,
                ref scratch.ValueGradient.At(accumulatorOffset), _tileStride,
                _dimRows, paddedColumns, paddedRows);
            TileProduct<TOps, TVec, TMain, TRowTail>.MultiplyAddTransposed(
                ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_queries), rowsOffset), _paddedDim,
                ref dS, _tileStride,
                ref scratch.KeyGradient.At(accumulatorOffset), _tileStride,
                _dimRows, paddedColumns, paddedRows);
            TileProduct<TOps, TVec, TMain, TRowTail>.MultiplyAdd(
                ref dS, _tileStride,
                ref _keys.At(firstKey * _keyStride), _keyStride,
                ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(scratch.QueryGradient), item * QueryTile * _paddedDim), _paddedDim,
                paddedRows, _paddedDim, paddedColumns);
        }

        /// <summary>
        /// P over S and dS over dP, in place. Zero wherever the pair does not count: masked pairs, padded keys, padded rows and
        /// rows with lse = −∞ (which attend nothing; exp(S + ∞) would be ∞ and the products NaN).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void ProbabilitiesAndScoreGradient(Scratch scratch, ReadOnlySpan<float> rowLse, ReadOnlySpan<float> rowDelta, int rows, int paddedRows, int firstKey, int columns, int paddedColumns, ReadOnlySpan<int> qPositions, IAttentionMask? mask)
        {
            var w = TOps.Count;
            var scale = TOps.Broadcast(_scale);
            ref var p = ref scratch.Probabilities.At(0);
            ref var dS = ref scratch.ScoreGradient.At(0);
            var kPositions = _block.Positions.AsSpan(firstKey, columns);
            for (var r = 0; r < paddedRows; r++)
            {
                var start = (nuint)(r * _tileStride);
                if (r >= rows || float.IsNegativeInfinity(rowLse[r]))
                {
                    scratch.Probabilities.Slice(r * _tileStride, paddedColumns).Clear();
                    scratch.ScoreGradient.Slice(r * _tileStride, paddedColumns).Clear();
                    continue;
                }

                var shift = TOps.Broadcast(-rowLse[r]);
                var delta = TOps.Broadcast(rowDelta[r]);
                for (var j = 0; j < paddedColumns; j += w)
                {
                    var offset = start + (nuint)j;
                    var probability = TOps.Exp(TOps.MultiplyAdd(TOps.Load(ref p, offset), scale, shift));
                    TOps.Store(probability, ref p, offset);
                    var gradient = TOps.Multiply(TOps.Multiply(probability, TOps.Subtract(TOps.Load(ref dS, offset), delta)), scale);
                    TOps.Store(gradient, ref dS, offset);
                }

                var probabilities = scratch.Probabilities.Slice(r * _tileStride, paddedColumns);
                var gradients = scratch.ScoreGradient.Slice(r * _tileStride, paddedColumns);
                if (mask is not null)
                {
                    var query = qPositions[r];
                    for (var j = 0; j < columns; j++)
                    {
                        if (!mask.Allows(query, kPositions[j]))
                        {
                            probabilities[j] = 0f;
                            gradients[j] = 0f;
                        }
                    }
                }

                probabilities[columns..].Clear();
                gradients[columns..].Clear();
            }
        }
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
