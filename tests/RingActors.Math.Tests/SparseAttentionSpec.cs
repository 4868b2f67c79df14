using RingActors.Math.Masks;

namespace RingActors.Math.Tests;

public class SparseAttentionSpec
{
    public static TheoryData<string, int, bool> Cases()
    {
        var data = new TheoryData<string, int, bool>();
        string[] small =
        [
            "window:8", "causal-window:8", "dilated:6:2", "global:0,5", "strided", "fixed:8:2", "random:5",
            "bigbird:4:1:2", "block:8:1000/1100/0110/0011", "topk:6", "union:window:4+global:0+random:3", "union:topk:3+causal-window:4",
        ];
        string[] large =
        [
            "window:64", "causal-window:100", "dilated:32:4", "global:0,1,128-130", "strided", "fixed:32:4", "random:16",
            "bigbird:32:1:2", "block:64:10000/11000/01100/00110/10011", "topk:20", "union:causal-window:32+strided:16",
        ];
        foreach (var causal in new[] { false, true })
        {
            foreach (var spec in small)
            {
                data.Add(spec, 31, causal);
            }

            foreach (var spec in large)
            {
                data.Add(spec, 257, causal);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Compute_must_equal_the_float64_oracle_under_the_same_mask(string spec, int n, bool causal)
    {
        // GQA (4 query heads over 2 key/value heads), batch 2, a head size that is not a multiple of the vector width.
        var shape = new AttentionShape(2, 4, 2, n, 12);
        var input = AttentionInput.Random(shape, seed: n + spec.Length);
        var pattern = PatternSpec.Parse(spec, new PatternContext(n, Seed: 3, Causal: causal, Input: input));
        var options = new AttentionOptions(Causal: causal, Pattern: pattern, Threads: 2);

        var sparse = SparseAttention.Compute(input, options);
        var (expected, expectedLse) = ReferenceAttention.Compute(input, options);

        var error = ErrorMetrics.Compare(sparse.Result.Output, expected);
        Assert.True(error.RelativeError < 1e-5, $"relative error {error.RelativeError}");
        AssertLse(expectedLse, sparse.Result.Lse);

        var allowed = BruteForceAllowed(shape, options);
        Assert.Equal(allowed, sparse.AllowedPairs);
        Assert.InRange(sparse.PairsComputed, allowed, (long)shape.Batch * shape.Heads * n * n);
        Assert.Equal(4.0 * shape.HeadDim * sparse.PairsComputed, sparse.Flops);
        Assert.Equal(4.0 * shape.HeadDim * allowed, sparse.AllowedFlops);
        var isCausal = causal || pattern.IsCausal;
        Assert.Equal(isCausal ? DensityBasis.CausalPairs : DensityBasis.AllPairs, sparse.Basis);
        var basis = (long)shape.Batch * shape.Heads * (isCausal ? (long)n * (n + 1) / 2 : (long)n * n);
        Assert.Equal(basis, sparse.BasisPairs);
        Assert.Equal((double)allowed / basis, sparse.Density, 12);
        Assert.InRange(sparse.PeakWorkingBytes, DenseAttention.PeakWorkingBytes(shape) - ((long)n * n * sizeof(float)), long.MaxValue);
    }

    [Fact]
    public void Compute_must_skip_tiles_a_window_leaves_empty()
    {
        var shape = new AttentionShape(1, 1, 1, 1000, 16);
        var input = AttentionInput.Random(shape, seed: 1);
        var sparse = SparseAttention.Compute(input, new AttentionOptions(Pattern: new SlidingWindowPattern(64)));
        Assert.True(sparse.Work.TilesSkipped > 0, "a narrow window must skip tiles");
        Assert.True(sparse.PairsComputed < 1000L * 1000 / 2, $"computed {sparse.PairsComputed} pairs for a 64-token window");
        Assert.Equal(Enumerable.Range(0, 1000).Sum(i => System.Math.Min(i, 32) + 1 + System.Math.Min(999 - i, 32)), sparse.AllowedPairs);
        Assert.True(sparse.TileEfficiency is > 0 and <= 1);
        Assert.True(sparse.PeakWorkingBytes < DenseAttention.PeakWorkingBytes(shape));
    }

    [Fact]
    public void Compute_must_output_zeros_for_rows_that_attend_nothing()
    {
        // Query block 1 attends no block at all.
        var shape = new AttentionShape(1, 2, 1, 31, 8);
        var input = AttentionInput.Random(shape, seed: 8);
        var pattern = PatternSpec.Parse("block:16:10/00", new PatternContext(31));
        var sparse = SparseAttention.Compute(input, new AttentionOptions(Pattern: pattern));
        for (var h = 0; h < 2; h++)
        {
            for (var i = 16; i < 31; i++)
            {
                var row = (h * 31) + i;
                Assert.True(float.IsNegativeInfinity(sparse.Result.Lse[row]));
                Assert.All(sparse.Result.Output.AsSpan(row * 8, 8).ToArray(), value => Assert.Equal(0f, value));
            }
        }

        Assert.DoesNotContain(sparse.Result.Output, value => !float.IsFinite(value));
        Assert.Equal(2L * 16 * 16, sparse.AllowedPairs);
    }

    [Fact]
    public void Compute_must_refuse_a_missing_or_mismatched_pattern()
    {
        var input = AttentionInput.Random(new AttentionShape(1, 1, 1, 31, 4), seed: 0);
        Assert.Throws<ArgumentException>(() => SparseAttention.Compute(input, AttentionOptions.Default));
        var other = new AttentionOptions(Pattern: new RandomPattern(3, 32, seed: 0));
        var error = Assert.Throws<ArgumentException>(() => SparseAttention.Compute(input, other));
        Assert.Contains("32 tokens", error.Message, StringComparison.Ordinal);
    }

    private static long BruteForceAllowed(AttentionShape shape, AttentionOptions options)
    {
        long count = 0;
        for (var b = 0; b < shape.Batch; b++)
        {
            for (var h = 0; h < shape.Heads; h++)
            {
                var mask = options.MaskFor(b, h)!;
                for (var i = 0; i < shape.SeqLen; i++)
                {
                    for (var j = 0; j < shape.SeqLen; j++)
                    {
                        count += mask.Allows(i, j) ? 1 : 0;
                    }
                }
            }
        }

        return count;
    }

    private static void AssertLse(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            if (double.IsNegativeInfinity(expected[i]))
            {
                Assert.True(float.IsNegativeInfinity(actual[i]), $"row {i}: lse {actual[i]}, the oracle says −∞");
            }
            else
            {
                Assert.True(System.Math.Abs(expected[i] - actual[i]) <= 1e-4 * System.Math.Max(1, System.Math.Abs(expected[i])), $"row {i}: lse {actual[i]}, the oracle says {expected[i]}");
            }
        }
    }
}
