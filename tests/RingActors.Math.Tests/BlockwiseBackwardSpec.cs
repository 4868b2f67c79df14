using RingActors.Math.Kernels;
using RingActors.Math.Masks;

namespace RingActors.Math.Tests;

/// <summary>
/// The tiled backward against the float64 oracle. Tolerance, scaled by each gradient's magnitude: relative Frobenius error
/// ≤ 2·10⁻⁵ and every element within 10⁻⁴ · max|expected| of the oracle. An fp32 sum of N terms is off by about
/// 6·10⁻⁸·√N of its magnitude (≈ 2·10⁻⁶ at N = 1000), the lse it is given by ≈ 10⁻⁷ relative: ten times that margin.
/// </summary>
public sealed class BlockwiseBackwardSpec
{
    private const double RelativeTolerance = 2e-5;
    private const double ElementTolerance = 1e-4;

    /// <summary>Vector256 always; Vector512 where the processor runs it (an emulated one is exact but too slow to test here).</summary>
    public static IEnumerable<VectorIsa> Paths() =>
        KernelIsa.IsAccelerated(VectorIsa.Vector512) ? [VectorIsa.Vector256, VectorIsa.Vector512] : [VectorIsa.Vector256];

    public static TheoryData<int, int, int, int, int, bool, int, VectorIsa> Shapes()
    {
        var data = new TheoryData<int, int, int, int, int, bool, int, VectorIsa>();
        foreach (var isa in Paths())
        {
            // batch, heads, kv heads, N, d, causal, threads: odd N (partial tiles), d not a multiple of 16, MHA, GQA, MQA.
            data.Add(1, 2, 2, 31, 5, false, 1, isa);
            data.Add(1, 2, 1, 31, 24, true, 2, isa);
            data.Add(2, 4, 2, 257, 72, true, 2, isa);
            data.Add(1, 4, 1, 257, 16, false, 1, isa);
            data.Add(2, 3, 1, 130, 33, true, 1, isa);
            data.Add(1, 1, 1, 1000, 8, true, 2, isa);
            data.Add(1, 2, 1, 1000, 5, false, 1, isa);

            // Key panels (key tiles sharing a pass over the query tiles): 3 panels of 2 tiles dealt to 2 threads at d = 64, one
            // tile per panel at d = 130 (rows of Q and dO read through a depth stride of 144, 132 accumulator rows).
            data.Add(1, 1, 1, 700, 64, false, 2, isa);
            data.Add(1, 2, 1, 300, 130, true, 2, isa);
        }

        return data;
    }

    public static TheoryData<string, bool, VectorIsa> Patterns()
    {
        var data = new TheoryData<string, bool, VectorIsa>();
        foreach (var isa in Paths())
        {
            foreach (var (spec, causal) in new[]
            {
                ("window:64", false), ("causal-window:40", false), ("dilated:32:2", true), ("global:0,100-103", false),
                ("bigbird:16:1:2", false), ("bigbird:32:1:1", true), ("block:64:10001/11000/01100/00110/10011", false),
                ("topk:8", false), ("topk:5", true), ("strided", false), ("union:window:16+global:3", true),
            })
            {
                data.Add(spec, causal, isa);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Accumulate_must_equal_the_float64_oracle(int batch, int heads, int kvHeads, int n, int d, bool causal, int threads, VectorIsa isa)
    {
        var shape = new AttentionShape(batch, heads, kvHeads, n, d);
        var input = AttentionInput.Random(shape, seed: n + d);
        var outputGradient = AttentionInput.Random(shape, seed: n + d + 1).Q;
        var options = new AttentionOptions(Causal: causal, Threads: threads);

        var (actual, _) = Backward(input, outputGradient, options, isa);

        AssertMatchesOracle(input, outputGradient, options, actual, $"{isa} B={batch} H={heads}/{kvHeads} N={n} d={d} causal={causal} threads={threads}");
    }

    [Theory]
    [MemberData(nameof(Patterns))]
    public void Accumulate_must_equal_the_float64_oracle_under_sparse_patterns(string spec, bool causal, VectorIsa isa)
    {
        // GQA, batch 2, two threads, a head size that is not a multiple of the vector width.
        var shape = new AttentionShape(2, 4, 2, 257, 12);
        var input = AttentionInput.Random(shape, seed: spec.Length);
        var outputGradient = AttentionInput.Random(shape, seed: spec.Length + 1).Q;
        var pattern = PatternSpec.Parse(spec, new PatternContext(257, Seed: 3, Causal: causal, Input: input));
        var options = new AttentionOptions(Causal: causal, Pattern: pattern, Threads: 2);

        var (actual, work) = Backward(input, outputGradient, options, isa);

        AssertMatchesOracle(input, outputGradient, options, actual, $"{isa} {spec} causal={causal}");
        var (_, forwardWork) = BlockwiseAttention.Compute(input, options);
        Assert.Equal(forwardWork, work);
    }

    [Fact]
    public void Accumulate_must_skip_empty_tiles_and_count_the_forward_work()
    {
        var shape = new AttentionShape(1, 2, 1, 1000, 16);
        var input = AttentionInput.Random(shape, seed: 5);
        var outputGradient = AttentionInput.Random(shape, seed: 6).Q;
        var options = new AttentionOptions(Pattern: new SlidingWindowPattern(64));

        var (_, work) = Backward(input, outputGradient, options, KernelIsa.Selected);

        var (_, forwardWork) = BlockwiseAttention.Compute(input, options);
        Assert.Equal(forwardWork, work);
        Assert.True(work.TilesSkipped > 0, "a 64-token window must skip tiles");
        Assert.Equal(10.0 * 16 * work.PairsComputed, work.BackwardFlops);
    }

    /// <summary>
    /// The scratch estimate bounds what a call allocates: the pooled buffers are at most twice what is asked for (the pool
    /// rounds up to powers of two), so on one thread the bytes this thread allocates stay within 2 × the estimate plus the
    /// fixed small objects. MQA over 8 heads, where the group's packed query tiles dominate.
    /// </summary>
    [Fact]
    public void ScratchBytes_must_bound_what_one_call_allocates()
    {
        var shape = new AttentionShape(1, 8, 1, 1531, 72);
        var input = AttentionInput.Random(shape, seed: 15);
        var outputGradient = AttentionInput.Random(shape, seed: 16).Q;
        var positions = Enumerable.Range(0, shape.SeqLen).ToArray();
        var heads = AttentionHeads.Of(shape);
        var (forward, _) = BlockwiseAttention.Compute(input, new AttentionOptions());
        var rows = BackwardRows.Create(new QueryChunk(input.Q, positions), outputGradient, forward);
        var block = new KeyValueBlock(input.K, input.V, positions);
        var queryGradient = new float[shape.QueryLength];
        var gradients = KeyValueGradients.Zero(heads, shape.SeqLen);
        var estimate = BlockwiseBackward.ScratchBytes(8, shape.SeqLen, shape.SeqLen, shape.HeadDim, threads: 1);

        var before = GC.GetAllocatedBytesForCurrentThread();
        BlockwiseBackward.Accumulate(rows, block, heads, new AttentionOptions(Threads: 1), queryGradient, gradients);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.InRange(allocated, 0, (2 * estimate) + (64 * 1024));
        Assert.True(estimate > 2L * shape.QueryLength * sizeof(float), $"MQA packs Q and dO of all 8 heads: {estimate} bytes");
    }

    [Theory]
    [MemberData(nameof(PathsData))]
    public void Accumulate_must_give_zero_gradients_for_rows_that_attend_nothing(VectorIsa isa)
    {
        // Query block 1 (tokens 16..30) attends no block: lse = −∞ there, and nothing may come out as NaN.
        var shape = new AttentionShape(1, 2, 1, 31, 8);
        var input = AttentionInput.Random(shape, seed: 8);
        var outputGradient = AttentionInput.Random(shape, seed: 9).Q;
        var options = new AttentionOptions(Pattern: PatternSpec.Parse("block:16:10/00", new PatternContext(31)));

        var (actual, _) = Backward(input, outputGradient, options, isa);

        for (var h = 0; h < 2; h++)
        {
            for (var i = 16; i < 31; i++)
            {
                Assert.All(actual.Queries.AsSpan(((h * 31) + i) * 8, 8).ToArray(), value => Assert.Equal(0f, value));
            }
        }

        // Keys 16..30 are attended by nobody: no gradient reaches them.
        Assert.All(actual.Keys.AsSpan(16 * 8).ToArray(), value => Assert.Equal(0f, value));
        Assert.All(actual.Values.AsSpan(16 * 8).ToArray(), value => Assert.Equal(0f, value));
        AssertMatchesOracle(input, outputGradient, options, actual, $"{isa} empty rows");
    }

    [Fact]
    public void Accumulate_must_ignore_rows_whose_lse_is_minus_infinity_even_where_the_mask_allows_keys()
    {
        // A caller's rows may carry lse = −∞ (a row with nothing to attend anywhere in the ring) under a full mask:
        // exp(S + ∞) is ∞, so these rows must be dropped before the products, not multiplied by zero.
        var shape = new AttentionShape(1, 1, 1, 70, 8);
        var input = AttentionInput.Random(shape, seed: 2);
        var outputGradient = AttentionInput.Random(shape, seed: 3).Q;
        var (forward, _) = BlockwiseAttention.Compute(input, AttentionOptions.Default);
        forward.Lse[5] = float.NegativeInfinity;
        forward.Output.AsSpan(5 * 8, 8).Clear();
        var positions = Enumerable.Range(0, 70).ToArray();
        var rows = BackwardRows.Create(new QueryChunk(input.Q, positions), outputGradient, forward);
        var dQ = new float[shape.QueryLength];
        var block = KeyValueGradients.Zero(AttentionHeads.Of(shape), 70);
        foreach (var isa in Paths())
        {
            Array.Clear(dQ);
            Array.Clear(block.Keys);
            Array.Clear(block.Values);
            BlockwiseBackward.Accumulate(rows, new KeyValueBlock(input.K, input.V, positions), AttentionHeads.Of(shape), AttentionOptions.Default, dQ, block, isa);
            Assert.All(dQ.AsSpan(5 * 8, 8).ToArray(), value => Assert.Equal(0f, value));
            Assert.DoesNotContain(dQ.Concat(block.Keys).Concat(block.Values), value => !float.IsFinite(value));
        }
    }

    [Theory]
    [InlineData(100, false)]
    [InlineData(128, true)]
    [InlineData(37, true)]
    public void Accumulate_over_key_blocks_must_sum_to_one_call(int blockTokens, bool causal)
    {
        // What one ring device does: its rows against every block in turn, dQ summed over the calls, each block's dK/dV its own.
        var shape = new AttentionShape(2, 4, 2, 300, 24);
        var input = AttentionInput.Random(shape, seed: blockTokens);
        var outputGradient = AttentionInput.Random(shape, seed: blockTokens + 1).Q;
        var options = new AttentionOptions(Causal: causal, Threads: 2);
        var heads = AttentionHeads.Of(shape);
        var (whole, wholeWork) = Backward(input, outputGradient, options, KernelIsa.Selected);

        var (forward, _) = BlockwiseAttention.Compute(input, options);
        var rows = BackwardRows.Create(new QueryChunk(input.Q, Enumerable.Range(0, 300).ToArray()), outputGradient, forward);
        var dQ = new float[shape.QueryLength];
        var dK = new float[shape.KeyValueLength];
        var dV = new float[shape.KeyValueLength];
        var work = new BlockWork(0, 0, 0, 24);
        for (var start = 0; start < 300; start += blockTokens)
        {
            var tokens = System.Math.Min(blockTokens, 300 - start);
            var block = BlockwiseAttention.SliceKeys(input, start, tokens);
            var gradients = KeyValueGradients.Zero(heads, tokens);
            work += BlockwiseBackward.Accumulate(rows, block, heads, options, dQ, gradients);
            for (var head = 0; head < shape.Batch * shape.KvHeads; head++)
            {
                gradients.Keys.AsSpan(head * tokens * 24, tokens * 24).CopyTo(dK.AsSpan(((head * 300) + start) * 24));
                gradients.Values.AsSpan(head * tokens * 24, tokens * 24).CopyTo(dV.AsSpan(((head * 300) + start) * 24));
            }
        }

        AssertClose(whole.Queries, dQ, "dQ");
        AssertClose(whole.Keys, dK, "dK");
        AssertClose(whole.Values, dV, "dV");

        // Causal tiles on the diagonal are computed whole, so the pairs depend on where blocks start; never fewer than allowed.
        var allowed = causal ? (long)shape.Batch * shape.Heads * 300 * 301 / 2 : (long)shape.Batch * shape.Heads * 300 * 300;
        Assert.InRange(work.PairsComputed, allowed, (long)shape.Batch * shape.Heads * 300 * 300);
        Assert.InRange(wholeWork.PairsComputed, allowed, (long)shape.Batch * shape.Heads * 300 * 300);
    }

    [Fact]
    public void Accumulate_must_add_to_what_the_accumulators_hold()
    {
        var shape = new AttentionShape(1, 2, 1, 90, 16);
        var input = AttentionInput.Random(shape, seed: 11);
        var outputGradient = AttentionInput.Random(shape, seed: 12).Q;
        var (once, _) = Backward(input, outputGradient, AttentionOptions.Default, KernelIsa.Selected);
        var (forward, _) = BlockwiseAttention.Compute(input, AttentionOptions.Default);
        var positions = Enumerable.Range(0, 90).ToArray();
        var rows = BackwardRows.Create(new QueryChunk(input.Q, positions), outputGradient, forward);
        var dQ = new float[shape.QueryLength];
        var block = KeyValueGradients.Zero(AttentionHeads.Of(shape), 90);
        for (var call = 0; call < 2; call++)
        {
            BlockwiseBackward.Accumulate(rows, new KeyValueBlock(input.K, input.V, positions), AttentionHeads.Of(shape), AttentionOptions.Default, dQ, block);
        }

        AssertClose(once.Queries.Select(x => 2 * x).ToArray(), dQ, "dQ");
        AssertClose(once.Keys.Select(x => 2 * x).ToArray(), block.Keys, "dK");
        AssertClose(once.Values.Select(x => 2 * x).ToArray(), block.Values, "dV");
    }

    [Fact]
    public void Accumulate_must_give_the_same_bits_on_every_run_with_threads()
    {
        var shape = new AttentionShape(1, 4, 2, 333, 24);
        var input = AttentionInput.Random(shape, seed: 13);
        var outputGradient = AttentionInput.Random(shape, seed: 14).Q;
        var options = new AttentionOptions(Causal: true, Threads: 2);
        var (first, _) = Backward(input, outputGradient, options, KernelIsa.Selected);
        for (var run = 0; run < 3; run++)
        {
            var (again, _) = Backward(input, outputGradient, options, KernelIsa.Selected);
            Assert.Equal(first.Queries, again.Queries);
            Assert.Equal(first.Keys, again.Keys);
            Assert.Equal(first.Values, again.Values);
        }
    }

    [Fact]
    public void Accumulate_must_name_the_parameter_of_a_wrong_length()
    {
        var shape = new AttentionShape(1, 2, 1, 20, 8);
        var input = AttentionInput.Random(shape, seed: 1);
        var (forward, _) = BlockwiseAttention.Compute(input, AttentionOptions.Default);
        var positions = Enumerable.Range(0, 20).ToArray();
        var rows = BackwardRows.Create(new QueryChunk(input.Q, positions), input.Q, forward);
        var block = new KeyValueBlock(input.K, input.V, positions);
        var heads = AttentionHeads.Of(shape);

        var error = Assert.Throws<ArgumentException>(() => BlockwiseBackward.Accumulate(rows, block, heads, AttentionOptions.Default, new float[10], KeyValueGradients.Zero(heads, 20)));
        Assert.Equal("queryGradient", error.ParamName);
        Assert.Contains("10", error.Message, StringComparison.Ordinal);
        Assert.Contains((2 * 20 * 8).ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        error = Assert.Throws<ArgumentException>(() => BlockwiseBackward.Accumulate(rows, block, heads, AttentionOptions.Default, new float[shape.QueryLength], KeyValueGradients.Zero(heads, 19)));
        Assert.Equal("blockGradients", error.ParamName);
    }

    [Fact]
    public void Bf16_partials_must_err_more_than_fp32_and_within_the_bf16_unit()
    {
        // Four key blocks per device as a ring of 4 would see them; each contribution rounded to bf16 before an fp32 sum.
        // Bound: bf16 rounds to nearest with 8 significant bits, |error| ≤ 2⁻⁸ of each value, so the sum of the rounded
        // contributions is within 2⁻⁸ (relative Frobenius) of the exact one; fp32 partials stay at the kernel's 10⁻⁵.
        var shape = new AttentionShape(1, 4, 2, 256, 32);
        var input = AttentionInput.Random(shape, seed: 21);
        var outputGradient = AttentionInput.Random(shape, seed: 22).Q;
        var options = new AttentionOptions(Causal: true);
        var (dQ, dK, dV) = ReferenceBackward.Compute(input, outputGradient, options);
        var fp32 = InBlocks(PartialPrecision.Fp32);
        var bf16 = InBlocks(PartialPrecision.Bf16);
        foreach (var (name, expected, f, b) in new[] { ("dQ", dQ, fp32.Queries, bf16.Queries), ("dK", dK, fp32.Keys, bf16.Keys), ("dV", dV, fp32.Values, bf16.Values) })
        {
            var fp32Error = ErrorMetrics.Compare(f, expected).RelativeError;
            var bf16Error = ErrorMetrics.Compare(b, expected).RelativeError;
            Assert.True(fp32Error < RelativeTolerance, $"{name}: fp32 partials relative error {fp32Error}");
            Assert.True(bf16Error > fp32Error, $"{name}: bf16 {bf16Error} must err more than fp32 {fp32Error}");
            Assert.True(bf16Error > 1e-4, $"{name}: bf16 {bf16Error} shows no rounding at all");
            Assert.True(bf16Error <= 1.0 / 256, $"{name}: bf16 relative error {bf16Error} above 2⁻⁸");
        }

        AttentionGradients InBlocks(PartialPrecision precision)
        {
            var heads = AttentionHeads.Of(shape);
            var (forward, _) = BlockwiseAttention.Compute(input, options);
            var rows = BackwardRows.Create(new QueryChunk(input.Q, Enumerable.Range(0, 256).ToArray()), outputGradient, forward);
            var queryGradient = new float[shape.QueryLength];
            var keys = new float[shape.KeyValueLength];
            var values = new float[shape.KeyValueLength];
            for (var start = 0; start < 256; start += 64)
            {
                var block = BlockwiseAttention.SliceKeys(input, start, 64);
                var gradients = KeyValueGradients.Zero(heads, 64);
                BlockPartials.AccumulateBackward(rows, block, heads, options, queryGradient, gradients, precision);
                for (var head = 0; head < shape.KvHeads; head++)
                {
                    gradients.Keys.AsSpan(head * 64 * 32, 64 * 32).CopyTo(keys.AsSpan(((head * 256) + start) * 32));
                    gradients.Values.AsSpan(head * 64 * 32, 64 * 32).CopyTo(values.AsSpan(((head * 256) + start) * 32));
                }
            }

            return new AttentionGradients(queryGradient, keys, values);
        }
    }

    [Fact]
    public void Reference_must_match_finite_differences_of_the_loss()
    {
        // L = Σ dO ∘ O; its derivative with respect to every input element, by central differences in float64.
        var shape = new AttentionShape(1, 2, 1, 5, 3);
        var input = AttentionInput.Random(shape, seed: 3);
        var outputGradient = AttentionInput.Random(shape, seed: 4).Q;
        var options = new AttentionOptions(Causal: true);
        var (dQ, dK, dV) = ReferenceBackward.Compute(input, outputGradient, options);

        Check(input.Q, dQ);
        Check(input.K, dK);
        Check(input.V, dV);

        void Check(float[] tensor, double[] gradient)
        {
            for (var i = 0; i < tensor.Length; i++)
            {
                var original = tensor[i];
                const float step = 1e-2f;
                tensor[i] = original + step;
                var plus = Loss();
                tensor[i] = original - step;
                var minus = Loss();
                tensor[i] = original;
                var numeric = (plus - minus) / (2 * step);
                Assert.True(System.Math.Abs(numeric - gradient[i]) <= 2e-3 * (1 + System.Math.Abs(numeric)), $"element {i}: finite difference {numeric}, analytic {gradient[i]}");
            }
        }

        double Loss()
        {
            var (output, _) = ReferenceAttention.Compute(input, options);
            double loss = 0;
            for (var i = 0; i < output.Length; i++)
            {
                loss += output[i] * outputGradient[i];
            }

            return loss;
        }
    }

    [Fact]
    public void Bf16_must_round_to_nearest_even()
    {
        Assert.Equal(1f, Bf16.Round(1f));
        Assert.Equal(1f, Bf16.Round(1f + (1f / 512))); // a quarter of the 7-bit mantissa's unit rounds down
        Assert.Equal(1f + (1f / 64), Bf16.Round(1f + (3f / 256))); // 1.5 units: a tie, to the even mantissa
        Assert.Equal(float.PositiveInfinity, Bf16.Round(float.PositiveInfinity));
        Assert.True(float.IsNaN(Bf16.Round(float.NaN)));
    }

    public static TheoryData<VectorIsa> PathsData()
    {
        var data = new TheoryData<VectorIsa>();
        foreach (var isa in Paths())
        {
            data.Add(isa);
        }

        return data;
    }

    /// <summary>The forward, then the backward of the whole problem as one block on <paramref name="isa"/>.</summary>
    private static (AttentionGradients Gradients, BlockWork Work) Backward(AttentionInput input, float[] outputGradient, AttentionOptions options, VectorIsa isa)
    {
        var shape = input.Shape;
        var heads = AttentionHeads.Of(shape);
        var positions = Enumerable.Range(0, shape.SeqLen).ToArray();
        var (forward, _) = BlockwiseAttention.Compute(input, options);
        var rows = BackwardRows.Create(new QueryChunk(input.Q, positions), outputGradient, forward);
        var queryGradient = new float[shape.QueryLength];
        var blockGradients = KeyValueGradients.Zero(heads, shape.SeqLen);
        var work = BlockwiseBackward.Accumulate(rows, new KeyValueBlock(input.K, input.V, positions), heads, options, queryGradient, blockGradients, isa);
        return (new AttentionGradients(queryGradient, blockGradients.Keys, blockGradients.Values), work);
    }

    private static void AssertMatchesOracle(AttentionInput input, float[] outputGradient, AttentionOptions options, AttentionGradients actual, string context)
    {
        var (dQ, dK, dV) = ReferenceBackward.Compute(input, outputGradient, options);
        AssertClose(dQ, actual.Queries, $"{context} dQ");
        AssertClose(dK, actual.Keys, $"{context} dK");
        AssertClose(dV, actual.Values, $"{context} dV");
    }

    private static void AssertClose(float[] expected, float[] actual, string context) =>
        AssertClose(expected.Select(x => (double)x).ToArray(), actual, context);

    private static void AssertClose(double[] expected, float[] actual, string context)
    {
        var error = ErrorMetrics.Compare(actual, expected);
        var magnitude = expected.Length == 0 ? 0 : expected.Max(System.Math.Abs);
        Assert.True(error.RelativeError <= RelativeTolerance, $"{context}: relative error {error.RelativeError}");
        Assert.True(error.MaxAbsError <= ElementTolerance * magnitude, $"{context}: max abs error {error.MaxAbsError} against max |expected| {magnitude}");
    }
}
