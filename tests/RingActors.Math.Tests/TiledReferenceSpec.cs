using RingActors.Math.Masks;
using RingActors.Math.Verification;

namespace RingActors.Math.Tests;

public class TiledReferenceSpec
{
    // N = 67 is odd and not a multiple of either tile; d = 10 leaves a tail after every double vector; H = 4 over Hkv = 2 is GQA.
    private static readonly AttentionShape Shape = new(2, 4, 2, 67, 10);

    public static TheoryData<string, bool> Patterns()
    {
        var data = new TheoryData<string, bool>();
        string?[] specs =
        [
            null, "window:9", "causal-window:7", "dilated:4:2", "global:0,5-7", "strided", "fixed:8:2", "random:3", "bigbird:8:1:1",
            "block:16:11000/01100/00110/00011/10001", "topk:5", "union:window:8+global:3",
        ];
        foreach (var spec in specs)
        {
            data.Add(spec ?? "dense", false);
            data.Add(spec ?? "dense", true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Patterns))]
    public void TiledReference_must_equal_the_dense_float64_oracle(string spec, bool causal)
    {
        var input = AttentionInput.Random(Shape, seed: 7);
        var options = Options(spec, causal, input);
        var (expected, expectedLse) = ReferenceAttention.Compute(input, options);
        var n = Shape.SeqLen;
        var d = Shape.HeadDim;
        var positions = Enumerable.Range(0, n).ToArray();
        var output = new double[n * d];
        var lse = new double[n];
        for (var b = 0; b < Shape.Batch; b++)
        {
            for (var h = 0; h < Shape.Heads; h++)
            {
                TiledReference.ComputeRows(input, options, b, h, positions, output, lse);
                var head = (b * Shape.Heads) + h;
                for (var i = 0; i < n; i++)
                {
                    var e = expectedLse[(head * n) + i];
                    if (double.IsNegativeInfinity(e))
                    {
                        Assert.True(double.IsNegativeInfinity(lse[i]), $"{spec} causal={causal} ({b},{h},{i}): lse {lse[i]}, oracle −∞");
                    }
                    else
                    {
                        Assert.True(System.Math.Abs(lse[i] - e) <= 1e-12 * System.Math.Max(1, System.Math.Abs(e)), $"{spec} causal={causal} ({b},{h},{i}): lse {lse[i]} vs {e}");
                    }

                    for (var c = 0; c < d; c++)
                    {
                        var x = expected[(((head * n) + i) * d) + c];
                        Assert.True(System.Math.Abs(output[(i * d) + c] - x) <= 1e-12 * System.Math.Max(1, System.Math.Abs(x)), $"{spec} causal={causal} ({b},{h},{i},{c}): {output[(i * d) + c]} vs {x}");
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Patterns))]
    public void CountAllowedPairs_must_equal_the_tile_by_tile_count(string spec, bool causal)
    {
        var input = AttentionInput.Random(Shape.WithSeqLen(300), seed: 2);
        var options = Options(spec.StartsWith("block", StringComparison.Ordinal) ? "block:64:11000/01100/00110/00011/10001" : spec, causal, input);
        var mask = options.MaskFor(1, 2);
        var expected = mask is null ? 300L * 300 : SparseAttention.CountAllowedPairs(mask, 300);
        Assert.Equal(expected, TiledReference.CountAllowedPairs(mask, 300));
    }

    [Fact]
    public void TiledReference_must_compute_sampled_rows_as_the_oracle_does()
    {
        var input = AttentionInput.Random(Shape, seed: 3);
        var options = new AttentionOptions(Causal: true, Pattern: new SlidingWindowPattern(20));
        var (expected, _) = ReferenceAttention.Compute(input, options);
        int[] positions = [0, 1, 31, 32, 33, 40, 66];
        var output = new double[positions.Length * Shape.HeadDim];
        TiledReference.ComputeRows(input, options, 1, 3, positions, output, new double[positions.Length]);
        for (var r = 0; r < positions.Length; r++)
        {
            for (var c = 0; c < Shape.HeadDim; c++)
            {
                var x = expected[(((7 * Shape.SeqLen) + positions[r]) * Shape.HeadDim) + c];
                Assert.Equal(x, output[(r * Shape.HeadDim) + c], 12);
            }
        }
    }

    [Fact]
    public void ReferenceCheck_must_pass_the_oracle_rounded_to_fp32_on_every_row()
    {
        var input = AttentionInput.Random(Shape, seed: 5);
        var options = new AttentionOptions(Causal: true);
        var (output, lse) = Rounded(ReferenceAttention.Compute(input, options));
        var result = ReferenceCheck.Verify(input, options, output, lse, sample: null, threads: 2);
        Assert.Equal(Shape.Batch * Shape.Heads * Shape.SeqLen, result.RowsChecked);
        Assert.True(result.Passes(1e-5), $"relative {result.Error.RelativeError}, worst row {result.WorstRowError}");
        Assert.True(result.Error.RelativeError < 1e-7);
        Assert.Equal(0, result.EmptyRows);
    }

    [Fact]
    public void Rows_check_must_find_a_planted_wrong_row_at_a_device_boundary()
    {
        var input = AttentionInput.Random(Shape, seed: 11);
        var options = new AttentionOptions(Causal: true, Pattern: new SlidingWindowPattern(16, causal: true));
        var (output, lse) = Rounded(ReferenceAttention.Compute(input, options));
        int[] boundaries = [0, 16, 17, 33, 34, 50, 51, 66];
        var sample = RowSample.Choose(Shape, options, 200, seed: 1, boundaries);
        Assert.True(ReferenceCheck.Verify(input, options, output, lse, sample, 2).Passes(1e-5));

        // Batch 1, head 2, token 33: the last token of a device's chunk, sampled in every head; the error is one element's.
        var planted = (((1L * Shape.Heads) + 2) * Shape.SeqLen) + 33;
        output[(planted * Shape.HeadDim) + 4] += 0.05f;
        var result = ReferenceCheck.Verify(input, options, output, lse, sample, 2);
        Assert.False(result.Passes(1e-5));
        Assert.Equal(planted, result.WorstRow);
        Assert.Equal(200, result.RowsChecked);
        Assert.Contains(planted, sample.Rows);
    }

    [Fact]
    public void Rows_check_must_sample_rows_that_attend_nothing_and_catch_one_that_is_not_zero()
    {
        // Causal ∩ global:40: a row before 40 may attend only key 40, which is in its future: rows 0..39 attend nothing.
        var input = AttentionInput.Random(Shape, seed: 13);
        var options = new AttentionOptions(Causal: true, Pattern: new GlobalTokensPattern([40]));
        var (output, lse) = Rounded(ReferenceAttention.Compute(input, options));
        var sample = RowSample.Choose(Shape, options, 32, seed: 2, []);
        var clean = ReferenceCheck.Verify(input, options, output, lse, sample, 1);
        Assert.True(clean.Passes(1e-5));
        Assert.True(clean.EmptyRows >= 4, $"{clean.EmptyRows} empty rows sampled");

        var empty = sample.Rows.First(row => row % Shape.SeqLen is > 0 and < 40);
        output[empty * Shape.HeadDim] = 1e-3f;
        var result = ReferenceCheck.Verify(input, options, output, lse, sample, 1);
        Assert.False(result.Passes(1e-5));
        Assert.Equal(empty, result.WorstRow);
        Assert.True(double.IsPositiveInfinity(result.WorstRowError));
    }

    [Fact]
    public void RowSample_must_hold_the_first_and_last_tokens_and_be_sorted_and_distinct()
    {
        var sample = RowSample.Choose(Shape, new AttentionOptions(Causal: true), 50, seed: 4, [20, 21]);
        Assert.Equal(50, sample.Rows.Count);
        Assert.Equal(sample.Rows.Order().Distinct(), sample.Rows);
        var last = (long)Shape.Batch * Shape.Heads * Shape.SeqLen;
        Assert.Contains(0L, sample.Rows);
        Assert.Contains(Shape.SeqLen - 1L, sample.Rows);
        Assert.Contains(last - 1, sample.Rows);
        Assert.Contains(last - Shape.SeqLen, sample.Rows);
        Assert.All(sample.Rows, row => Assert.InRange(row, 0, last - 1));
    }

    [Theory]
    [InlineData("full", "full")]
    [InlineData(" ROWS:12 ", "rows:12")]
    [InlineData("none", "none")]
    public void VerifyMode_must_parse_its_three_forms(string text, string expected) => Assert.Equal(expected, VerifyMode.Parse(text).ToString());

    [Theory]
    [InlineData("rows:0")]
    [InlineData("rows:")]
    [InlineData("rows:-3")]
    [InlineData("some")]
    public void VerifyMode_must_refuse_anything_else(string text) =>
        Assert.StartsWith("--verify must be full, rows:K", Assert.Throws<ArgumentException>(() => VerifyMode.Parse(text)).Message);

    private static AttentionOptions Options(string spec, bool causal, AttentionInput input) =>
        new(causal, spec == "dense" ? null : PatternSpec.Parse(spec, new PatternContext(input.Shape.SeqLen, 9, causal, input)));

    private static (float[] Output, float[] Lse) Rounded((double[] Output, double[] Lse) exact) =>
        (exact.Output.Select(x => (float)x).ToArray(), exact.Lse.Select(x => (float)x).ToArray());
}
