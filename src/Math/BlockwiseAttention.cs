using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using RingActors.Math.Kernels;
using RingActors.Math.Masks;

namespace RingActors.Math;

/// <summary>
/// Exact blockwise attention (FlashAttention-style tiling with the online-softmax merge): the partial result of a
/// query chunk against one key/value block, merged into a running <see cref="PartialAttention"/>.
/// Tiles of 64 queries × 128 keys; per tile pair the mask decides skip (empty), no mask (full) or a per-element mask (partial).
/// Vector512 micro-kernels (4 rows × 4 vectors) where the processor has them, Vector256 (6 rows × 2 vectors, to fit AVX2's
/// 16 registers) otherwise, chosen once (<see cref="KernelIsa.Selected"/>); padding handles any N and d.
/// Large buffers are rented from the shared pool and returned, never allocated per call (ANCHORS.md §5), and used from a
/// 64-byte boundary (<see cref="AlignedRental"/>), with row strides that avoid L1 set conflicts (<see cref="TilePacking.ConflictFreeStride"/>).
/// </summary>
public static class BlockwiseAttention
{
    public const int QueryTile = 64;
    public const int KeyTile = 128;

    /// <summary>
    /// Query tiles one sweep over the key tiles serves: each packed key tile (Kᵀ and V, 147 KB at d = 128) comes from L3 once
    /// per sweep and stays in L2 for the other three. At N = 8192, d = 128 the key and value panels (9.4 MB) no longer stayed
    /// in cache between query tiles, and one tile per sweep ran 11–19% slower than N = 4096. In-process A/B in turns on an AMD
    /// EPYC (family 25 model 17, 1 MB L2), one thread, N = 8192, d = 128: 2 against 1 +8.6% (AVX-512) and +15% (AVX2),
    /// 4 against 2 +4% and +11%, 4 against 3 +2.5% on both; causal 4 against 1 +9%. N = 4096 within ±1% on both paths;
    /// N = 8192, d = 64 +14% on AVX2. Four tiles' scratch and one key tile make 530 KB at d = 128, more than a Zen 3's
    /// 512 KB L2: not measured there.
    /// </summary>
    private const int QueryTilesPerSweep = 4;
    private const int ColumnAlign = 16;

    /// <summary>
    /// Computes the attention of <paramref name="queries"/> over <paramref name="block"/> and merges it into <paramref name="into"/>.
    /// Rows that the mask leaves with nothing to attend in this block are left as they were (the merge identity).
    /// </summary>
    public static BlockWork Accumulate(QueryChunk queries, KeyValueBlock block, AttentionHeads heads, AttentionOptions options, PartialAttention into) =>
        Accumulate(queries, block, heads, options, into, KernelIsa.Selected);

    /// <summary>
    /// <see cref="Accumulate(QueryChunk, KeyValueBlock, AttentionHeads, AttentionOptions, PartialAttention)"/> on a given vector path,
    /// so specs can check both micro-kernel shapes on one machine (a Vector512 path the processor lacks is emulated: exact but slow).
    /// </summary>
    internal static BlockWork Accumulate(QueryChunk queries, KeyValueBlock block, AttentionHeads heads, AttentionOptions options, PartialAttention into, VectorIsa isa)
    {
        Validate(queries, block, heads, options, into);
        if (queries.Tokens == 0 || block.Tokens == 0)
        {
            return new BlockWork(0, 0, 0, heads.HeadDim);
        }

        return isa == VectorIsa.Vector512
            ? new Run<Simd512, Vector512<float>, Kernel4x4<Simd512, Vector512<float>>, Kernel4x4<Simd512, Vector512<float>>>(queries, block, heads, options, into).Execute()
            : new Run<Simd256, Vector256<float>, Kernel6x2<Simd256, Vector256<float>>, Kernel4x2<Simd256, Vector256<float>>>(queries, block, heads, options, into).Execute();
    }

    /// <summary>Convenience: the whole attention of a problem computed as one block, returned as (output, lse).</summary>
    public static (PartialAttention Result, BlockWork Work) Compute(AttentionInput input, AttentionOptions options)
    {
        var shape = input.Shape;
        var positions = Enumerable.Range(0, shape.SeqLen).ToArray();
        var result = new PartialAttention(shape.Batch, shape.Heads, shape.SeqLen, shape.HeadDim);
        var work = Accumulate(new QueryChunk(input.Q, positions), new KeyValueBlock(input.K, input.V, positions), AttentionHeads.Of(shape), options, result);
        return (result, work);
    }

    /// <summary>
    /// Blockwise attention over a whole problem with the keys cut into blocks of <paramref name="blockTokens"/>
    /// tokens, each block's partial merged into the running result: what one ring device does, on one machine.
    /// </summary>
    public static (PartialAttention Result, BlockWork Work) ComputeInBlocks(AttentionInput input, AttentionOptions options, int blockTokens)
    {
        Guard.Positive(blockTokens, nameof(blockTokens));
        var shape = input.Shape;
        var heads = AttentionHeads.Of(shape);
        var queries = new QueryChunk(input.Q, Enumerable.Range(0, shape.SeqLen).ToArray());
        var result = new PartialAttention(shape.Batch, shape.Heads, shape.SeqLen, shape.HeadDim);
        var work = new BlockWork(0, 0, 0, shape.HeadDim);
        for (var start = 0; start < shape.SeqLen; start += blockTokens)
        {
            var tokens = System.Math.Min(blockTokens, shape.SeqLen - start);
            var block = SliceKeys(input, start, tokens);
            work += Accumulate(queries, block, heads, options, result);
        }

        return (result, work);
    }

    /// <summary>The keys and values of tokens [start, start + tokens) of every (batch, kv head), with their positions.</summary>
    public static KeyValueBlock SliceKeys(AttentionInput input, int start, int tokens)
    {
        var shape = input.Shape;
        if (start < 0 || tokens < 0 || start + tokens > shape.SeqLen)
        {
            throw new ArgumentException($"tokens [{start}, {start + tokens}) are outside a sequence of {shape.SeqLen}", nameof(tokens));
        }

        var d = shape.HeadDim;
        var keys = new float[shape.Batch * shape.KvHeads * tokens * d];
        var values = new float[keys.Length];
        for (var head = 0; head < shape.Batch * shape.KvHeads; head++)
        {
            input.K.AsSpan(((head * shape.SeqLen) + start) * d, tokens * d).CopyTo(keys.AsSpan(head * tokens * d));
            input.V.AsSpan(((head * shape.SeqLen) + start) * d, tokens * d).CopyTo(values.AsSpan(head * tokens * d));
        }

        return new KeyValueBlock(keys, values, Enumerable.Range(start, tokens).ToArray());
    }

    private static void Validate(QueryChunk queries, KeyValueBlock block, AttentionHeads heads, AttentionOptions options, PartialAttention into)
    {
        heads.WithTokens(1).Validate();
        Guard.Positive(options.Threads, nameof(options.Threads));
        if (options.Scale is { } scale && !float.IsFinite(scale))
        {
            throw new ArgumentException($"scale must be finite, got {scale}", nameof(options));
        }

        Guard.Length(queries.Data, (long)heads.Batch * heads.Heads * queries.Tokens * heads.HeadDim, nameof(queries));
        Guard.Length(block.Keys, (long)heads.Batch * heads.KvHeads * block.Tokens * heads.HeadDim, "keys");
        Guard.Length(block.Values, (long)heads.Batch * heads.KvHeads * block.Tokens * heads.HeadDim, "values");
        if (into.Batch != heads.Batch || into.Heads != heads.Heads || into.Tokens != queries.Tokens || into.HeadDim != heads.HeadDim)
        {
            throw new ArgumentException(
                $"partial is [{into.Batch},{into.Heads},{into.Tokens},{into.HeadDim}], queries are [{heads.Batch},{heads.Heads},{queries.Tokens},{heads.HeadDim}]",
                nameof(into));
        }
    }

    /// <summary>
    /// Floats of the packed keys and values of one (batch, kv head) of a block of <paramref name="keyTokens"/> tokens: Kᵀ
    /// tiles of [d][key stride] and V rows of the value stride (<see cref="TilePacking.ConflictFreeStride"/>), as one call rents them.
    /// </summary>
    public static long PackedFloats(int keyTokens, int headDim)
    {
        long keyTiles = (keyTokens + KeyTile - 1) / KeyTile;
        long paddedKeys = RoundUp(keyTokens, ColumnAlign);
        return (keyTiles * headDim * TilePacking.ConflictFreeStride(KeyTile)) + (paddedKeys * TilePacking.ConflictFreeStride(RoundUp(headDim, ColumnAlign)));
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>
    /// One query tile's buffers and running state, one per tile of a worker's sweep; small enough that renting them per call
    /// costs nothing measurable.
    /// </summary>
    private sealed class Scratch : IDisposable
    {
        public Scratch(int headDim, int paddedDim)
        {
            Queries = ArrayPool<float>.Shared.Rent(QueryTile * headDim);
            Scores = new AlignedRental(QueryTile * KeyTile);
            Output = new AlignedRental(QueryTile * paddedDim);
            RowMax = ArrayPool<float>.Shared.Rent(QueryTile);
            RowSum = ArrayPool<float>.Shared.Rent(QueryTile);
            RowRescale = ArrayPool<float>.Shared.Rent(QueryTile);
        }

        public float[] Queries { get; }

        public AlignedRental Scores { get; }

        /// <summary>The query tile's unnormalised output over the key tiles so far: Σ exp(s − <see cref="RowMax"/>) · v.</summary>
        public AlignedRental Output { get; }

        /// <summary>Per row, the largest score over the key tiles so far (−∞ before the first key it may attend).</summary>
        public float[] RowMax { get; }

        /// <summary>Per row, Σ exp(s − <see cref="RowMax"/>) over the key tiles so far.</summary>
        public float[] RowSum { get; }

        /// <summary>Per row, the factor this key tile's larger max scales the running output and sum by (1 when unchanged).</summary>
        public float[] RowRescale { get; }

        /// <summary>The query tile this scratch computes in the current sweep, with its rows, padded rows and first output row.</summary>
        public int QueryTileIndex { get; set; }

        public int Rows { get; set; }

        public int PaddedRows { get; set; }

        public int RowBase { get; set; }

        public IAttentionMask? Mask { get; set; }

        public long Pairs { get; set; }

        public long Tiles { get; set; }

        public long Skipped { get; set; }

        public void Dispose()
        {
            ArrayPool<float>.Shared.Return(Queries);
            Scores.Dispose();
            Output.Dispose();
            ArrayPool<float>.Shared.Return(RowMax);
            ArrayPool<float>.Shared.Return(RowSum);
            ArrayPool<float>.Shared.Return(RowRescale);
        }
    }

    private sealed class Run<TOps, TVec, TMain, TRowTail>
        where TOps : struct, ISimd<TVec>
        where TVec : struct
        where TMain : struct, IMicroKernel
        where TRowTail : struct, IMicroKernel
    {
        private readonly QueryChunk _queries;
        private readonly KeyValueBlock _block;
        private readonly AttentionHeads _heads;
        private readonly AttentionOptions _options;
        private readonly PartialAttention _into;
        private readonly int _d;
        private readonly int _paddedDim;
        private readonly int _keyStride;
        private readonly int _valueStride;
        private readonly int _queryTokens;
        private readonly int _keyTokens;
        private readonly int _paddedKeys;
        private readonly int _queryTiles;
        private readonly int _keyTiles;
        private readonly float _scale;
        private readonly IAttentionMask? _sharedMask;
        private readonly BlockCoverage[]? _sharedCoverage;
        private AlignedRental _keysTransposed = null!;
        private AlignedRental _values = null!;
        private int _batch;
        private int _kvHead;

        public Run(QueryChunk queries, KeyValueBlock block, AttentionHeads heads, AttentionOptions options, PartialAttention into)
        {
            _queries = queries;
            _block = block;
            _heads = heads;
            _options = options;
            _into = into;
            _d = heads.HeadDim;
            _paddedDim = RoundUp(_d, ColumnAlign);
            _keyStride = TilePacking.ConflictFreeStride(KeyTile);
            _valueStride = TilePacking.ConflictFreeStride(_paddedDim);
            _queryTokens = queries.Tokens;
            _keyTokens = block.Tokens;
            _paddedKeys = RoundUp(_keyTokens, ColumnAlign);
            _queryTiles = (_queryTokens + QueryTile - 1) / QueryTile;
            _keyTiles = (_keyTokens + KeyTile - 1) / KeyTile;
            _scale = options.Scale ?? 1f / MathF.Sqrt(_d);
            if (options.SameMaskForAllHeads)
            {
                // One classification per tile pair serves every head.
                _sharedMask = options.MaskFor(0, 0);
                _sharedCoverage = _sharedMask is null ? null : TilePacking.ClassifyTiles(_sharedMask, _queries.Positions, QueryTile, _block.Positions, KeyTile);
            }
        }

        public BlockWork Execute()
        {
            _keysTransposed = new AlignedRental(_keyTiles * _d * _keyStride); // PackedFloats counts these two
            _values = new AlignedRental(_paddedKeys * _valueStride);
            long pairs = 0, tiles = 0, skipped = 0;
            try
            {
                var items = _heads.GroupSize * _queryTiles;
                for (_batch = 0; _batch < _heads.Batch; _batch++)
                {
                    for (_kvHead = 0; _kvHead < _heads.KvHeads; _kvHead++)
                    {
                        if (_options.Threads > 1 && items > 1)
                        {
                            // The key tiles are packed in parallel too: packing one (batch, kv head) alone took 0.75 ms of a
                            // 14 ms two-thread causal run at N = 4096, d = 64.
                            var packers = System.Math.Min(_options.Threads, _keyTiles);
                            Parallel.For(
                                0,
                                packers,
                                new ParallelOptions { MaxDegreeOfParallelism = packers },
                                packer =>
                                {
                                    for (var keyTile = packer; keyTile < _keyTiles; keyTile += packers)
                                    {
                                        PackKeyTile(keyTile);
                                    }
                                });

                            // One task per worker, items dealt round-robin (worker t takes t, t + T, …): a causal triangle's
                            // light and heavy tiles are shared evenly, and a ~20 ms block pays for T tasks, not for the
                            // thread pool's chunking of every item (measured: two-thread causal speed-up 1.2–1.6 that way).
                            var workers = System.Math.Min(_options.Threads, items);
                            Parallel.For(
                                0,
                                workers,
                                new ParallelOptions { MaxDegreeOfParallelism = workers },
                                worker =>
                                {
                                    var (workerPairs, workerTiles, workerSkipped) = ComputeItems(worker, workers, items);
                                    Interlocked.Add(ref pairs, workerPairs);
                                    Interlocked.Add(ref tiles, workerTiles);
                                    Interlocked.Add(ref skipped, workerSkipped);
                                });
                        }
                        else
                        {
                            for (var keyTile = 0; keyTile < _keyTiles; keyTile++)
                            {
                                PackKeyTile(keyTile);
                            }

                            var (itemPairs, itemTiles, itemSkipped) = ComputeItems(0, 1, items);
                            pairs += itemPairs;
                            tiles += itemTiles;
                            skipped += itemSkipped;
                        }
                    }
                }
            }
            finally
            {
                _keysTransposed.Dispose();
                _values.Dispose();
            }

            return new BlockWork(pairs, tiles, skipped, _d);
        }

        private ReadOnlySpan<int> QueryPositions(int queryTile) => TilePacking.Slice(_queries.Positions, queryTile, QueryTile);

        private ReadOnlySpan<int> KeyPositions(int keyTile) => TilePacking.Slice(_block.Positions, keyTile, KeyTile);

        /// <summary>
        /// Key tile <paramref name="keyTile"/> of the current (batch, kv head) packed: its Kᵀ as [d][128] (row stride
        /// <see cref="_keyStride"/>) at [keyTile] of the transposed tiles, its V rows as [128][paddedDim] (row stride
        /// <see cref="_valueStride"/>; the last tile's up to the padded key count); padding zeroed
        /// (<see cref="TilePacking"/>). Tiles are independent, so workers can pack them in parallel.
        /// </summary>
        // Full optimisation from the first call: tiering would run the first blocks of every job (tens of ms) as unoptimised code.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void PackKeyTile(int keyTile)
        {
            var headOffset = ((_batch * _heads.KvHeads) + _kvHead) * _keyTokens * _d;
            var first = keyTile * KeyTile;
            var count = System.Math.Min(KeyTile, _keyTokens - first);
            var source = headOffset + (first * _d);
            TilePacking.Transpose(_block.Keys.AsSpan(source, count * _d), count, _d, _keysTransposed.Slice(keyTile * _d * _keyStride, _d * _keyStride), _keyStride);
            var paddedRows = System.Math.Min(KeyTile, _paddedKeys - first);
            TilePacking.PaddedRows(_block.Values.AsSpan(source, count * _d), count, _d, _valueStride, paddedRows, _values.Slice(first * _valueStride, paddedRows * _valueStride));
        }

        /// <summary>
        /// Items <paramref name="worker"/>, + <paramref name="workers"/>, … (round-robin: a causal triangle's light and heavy
        /// query tiles are shared evenly), <see cref="QueryTilesPerSweep"/> of them per sweep over the key tiles.
        /// </summary>
        private (long Pairs, long Tiles, long Skipped) ComputeItems(int worker, int workers, int items)
        {
            // A worker with fewer items than a sweep rents no scratch it would not use (a ring's small blocks).
            var sweep = new Scratch[System.Math.Min(QueryTilesPerSweep, (items - worker + workers - 1) / workers)];
            try
            {
                for (var s = 0; s < sweep.Length; s++)
                {
                    sweep[s] = new Scratch(_d, _paddedDim);
                }

                for (var first = worker; first < items; first += workers * sweep.Length)
                {
                    var count = 0;
                    for (var item = first; item < items && count < sweep.Length; item += workers)
                    {
                        StartItem(item, sweep[count++]);
                    }

                    for (var keyTile = 0; keyTile < _keyTiles; keyTile++)
                    {
                        for (var s = 0; s < count; s++)
                        {
                            ComputeTile(sweep[s], keyTile);
                        }
                    }

                    for (var s = 0; s < count; s++)
                    {
                        FinishItem(sweep[s]);
                    }
                }

                return (sweep.Sum(s => s.Pairs), sweep.Sum(s => s.Tiles), sweep.Sum(s => s.Skipped));
            }
            finally
            {
                foreach (var scratch in sweep)
                {
                    scratch?.Dispose();
                }
            }
        }

        /// <summary>Loads item <paramref name="item"/>'s scaled query tile into <paramref name="scratch"/> and resets its running state.</summary>
        // Full optimisation from the first call: tiering would run the first blocks of every job (tens of ms) as unoptimised code.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void StartItem(int item, Scratch scratch)
        {
            var group = item / _queryTiles;
            var queryTile = item % _queryTiles;
            var head = (_kvHead * _heads.GroupSize) + group;
            var firstRow = queryTile * QueryTile;
            var rows = System.Math.Min(QueryTile, _queryTokens - firstRow);
            var paddedRows = RoundUp(rows, TileProduct<TOps, TVec, TMain, TRowTail>.RowStep);
            scratch.QueryTileIndex = queryTile;
            scratch.Rows = rows;
            scratch.PaddedRows = paddedRows;
            scratch.RowBase = (((_batch * _heads.Heads) + head) * _queryTokens) + firstRow;
            scratch.Mask = _options.SameMaskForAllHeads ? _sharedMask : _options.MaskFor(_batch, head);

            // Scaled query tile, padded with zero rows up to a multiple of the micro-kernel height.
            var source = _queries.Data.AsSpan(scratch.RowBase * _d, rows * _d);
            VectorMath.Scale(source, _scale, scratch.Queries.AsSpan(0, rows * _d));
            scratch.Queries.AsSpan(rows * _d, (paddedRows - rows) * _d).Clear();

            // The online softmax runs inside the query tile (FlashAttention-2): one running max and sum per row, the output
            // accumulated unnormalised, and one merge into the partial per block, not per key tile. Per key tile the merge
            // cost two exps and two logs per row and a pass over the output: measured 7% of a d = 64 run.
            scratch.Output.Slice(0, paddedRows * _paddedDim).Clear();
            scratch.RowMax.AsSpan(0, rows).Fill(float.NegativeInfinity);
            scratch.RowSum.AsSpan(0, rows).Clear();
        }

        /// <summary>Key tile <paramref name="keyTile"/> against the query tile in <paramref name="scratch"/>: scores, softmax, P·V.</summary>
        // Full optimisation from the first call: tiering would run the first blocks of every job (tens of ms) as unoptimised code.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void ComputeTile(Scratch scratch, int keyTile)
        {
            var qPositions = QueryPositions(scratch.QueryTileIndex);
            var kPositions = KeyPositions(keyTile);
            var mask = scratch.Mask;
            var coverage = TilePacking.CoverageOf(mask, _sharedCoverage, (scratch.QueryTileIndex * _keyTiles) + keyTile, qPositions, kPositions);
            var columns = TilePacking.AttendedColumns(mask, coverage, qPositions, kPositions);
            if (columns == 0)
            {
                scratch.Skipped++;
                return;
            }

            var rows = scratch.Rows;
            var firstKey = keyTile * KeyTile;
            var paddedColumns = RoundUp(columns, ColumnAlign);
            scratch.Tiles++;
            scratch.Pairs += (long)rows * columns;

            ScoreTile(scratch.Queries, scratch.PaddedRows, keyTile, paddedColumns, scratch.Scores);
            SoftmaxRows(scratch, rows, qPositions, firstKey, columns, paddedColumns, coverage == BlockCoverage.Partial ? mask : null);
            RescaleOutput(scratch, rows);
            WeightValues(scratch.Scores, scratch.PaddedRows, firstKey, paddedColumns, scratch.Output);
        }

        /// <summary>Merges the query tile's normalised output and log-sum-exp into the block's partial result.</summary>
        private void FinishItem(Scratch scratch)
        {
            for (var r = 0; r < scratch.Rows; r++)
            {
                var sum = scratch.RowSum[r];
                if (sum > 0f)
                {
                    var outputRow = scratch.RowBase + r;
                    SoftmaxMerge.MergeRow(
                        _into.Output.AsSpan(outputRow * _d, _d),
                        ref _into.Lse[outputRow],
                        scratch.Output.Slice(r * _paddedDim, _d),
                        scratch.RowMax[r] + MathF.Log(sum),
                        1f / sum);
                }
            }
        }

        /// <summary>
        /// Turns the tile's scores into weights exp(s − running max) in place and folds them into each row's running max and
        /// sum; a row with nothing to attend in the tile gets zero weights and keeps its running state.
        /// </summary>
        // Full optimisation from the first call: tiering would run the first blocks of every job (tens of ms) as unoptimised code.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void SoftmaxRows(Scratch scratch, int rows, ReadOnlySpan<int> qPositions, int firstKey, int columns, int paddedColumns, IAttentionMask? mask)
        {
            if (mask is not null || columns < paddedColumns)
            {
                var kPositions = _block.Positions.AsSpan(firstKey, columns);
                for (var r = 0; r < rows; r++)
                {
                    var row = scratch.Scores.Slice(r * KeyTile, paddedColumns);
                    mask?.Refuse(qPositions[r], kPositions, row);
                    if (columns < paddedColumns)
                    {
                        // Only the last key tile of a block has padding.
                        row[columns..].Fill(float.NegativeInfinity);
                    }
                }
            }

            // Four rows at a time: one row's max, horizontal reduction, exp pass and sum were each a dependency chain the
            // next row's could not start under; four interleaved fill the vector ports (N = 4096, d = 64, one thread: +1.1–1.6%
            // on both paths, 15 s in-process A/B runs on an Intel Xeon, family 6 model 167). Results are bit for bit the same.
            var group = 0;
            for (; group + 4 <= rows; group += 4)
            {
                ref var first = ref scratch.Scores.At(group * KeyTile);
                VectorMath.Max4<TOps, TVec>(ref first, KeyTile, paddedColumns, out var max0, out var max1, out var max2, out var max3);
                var shift0 = StartTileRow(scratch, group, max0);
                var shift1 = StartTileRow(scratch, group + 1, max1);
                var shift2 = StartTileRow(scratch, group + 2, max2);
                var shift3 = StartTileRow(scratch, group + 3, max3);
                VectorMath.ExpSubtractSum4<TOps, TVec>(ref first, KeyTile, paddedColumns, shift0, shift1, shift2, shift3, out var sum0, out var sum1, out var sum2, out var sum3);
                scratch.RowSum[group] = (scratch.RowSum[group] * scratch.RowRescale[group]) + sum0;
                scratch.RowSum[group + 1] = (scratch.RowSum[group + 1] * scratch.RowRescale[group + 1]) + sum1;
                scratch.RowSum[group + 2] = (scratch.RowSum[group + 2] * scratch.RowRescale[group + 2]) + sum2;
                scratch.RowSum[group + 3] = (scratch.RowSum[group + 3] * scratch.RowRescale[group + 3]) + sum3;
            }

            for (var r = group; r < rows; r++)
            {
                var row = scratch.Scores.Slice(r * KeyTile, paddedColumns);
                var shift = StartTileRow(scratch, r, VectorMath.Max<TOps, TVec>(row));
                scratch.RowSum[r] = (scratch.RowSum[r] * scratch.RowRescale[r]) + VectorMath.ExpSubtractSum<TOps, TVec>(row, shift, row);
            }
        }

        /// <summary>
        /// Folds a tile's row max into row <paramref name="r"/>'s running max, sets its <see cref="Scratch.RowRescale"/>, and
        /// returns the shift its weights are exp(s − shift) of: the running max, or +∞ for a row with nothing to attend in the
        /// tile (its weights come out 0 and its running state stays).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float StartTileRow(Scratch scratch, int r, float tileMax)
        {
            if (float.IsNegativeInfinity(tileMax))
            {
                scratch.RowRescale[r] = 1f;
                return float.PositiveInfinity;
            }

            var runningMax = scratch.RowMax[r];
            var rescale = 1f;
            if (tileMax > runningMax)
            {
                // 0 on the row's first attended tile (exp(−∞)), where the running output and sum are still zero.
                rescale = MathF.Exp(runningMax - tileMax);
                runningMax = tileMax;
                scratch.RowMax[r] = tileMax;
            }

            scratch.RowRescale[r] = rescale;
            return runningMax;
        }

        /// <summary>Scales each row's running output by its <see cref="Scratch.RowRescale"/> before the tile's P·V is added.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RescaleOutput(Scratch scratch, int rows)
        {
            for (var r = 0; r < rows; r++)
            {
                var rescale = scratch.RowRescale[r];
                if (rescale is not 1f and not 0f)
                {
                    var row = scratch.Output.Slice(r * _paddedDim, _d);
                    VectorMath.Scale(row, rescale, row);
                }
            }
        }

        /// <summary>S[r, c] = q_r · k_c for a tile of queries against key tile <paramref name="keyTile"/>'s packed Kᵀ.</summary>
        private void ScoreTile(float[] queries, int paddedRows, int keyTile, int paddedColumns, AlignedRental scores) =>
            TileProduct<TOps, TVec, TMain, TRowTail>.Multiply(
                ref MemoryMarshal.GetArrayDataReference(queries), _d,
                ref _keysTransposed.At(keyTile * _d * _keyStride), _keyStride,
                ref scores.At(0), KeyTile,
                paddedRows, paddedColumns, _d);

        /// <summary>O[r, :] += Σ_c P[r, c] · V[c, :] for a tile of weights against the tile's rows of packed V.</summary>
        private void WeightValues(AlignedRental weights, int paddedRows, int firstKey, int paddedColumns, AlignedRental output) =>
            TileProduct<TOps, TVec, TMain, TRowTail>.MultiplyAdd(
                ref weights.At(0), KeyTile,
                ref _values.At(firstKey * _valueStride), _valueStride,
                ref output.At(0), _paddedDim,
                paddedRows, _paddedDim, paddedColumns);
    }
}
