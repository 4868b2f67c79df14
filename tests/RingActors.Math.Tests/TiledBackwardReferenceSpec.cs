using RingActors.Math.Masks;
using RingActors.Math.Verification;

namespace RingActors.Math.Tests;

public sealed class TiledBackwardReferenceSpec
{
    // Both sides are float64 with different summation orders: agreement to 1e-10 of the magnitude is exact for this purpose.
    private const double Tolerance = 1e-10;

    [Theory]
    [InlineData(1, 2, 2, 31, 5, false, null)]
    [InlineData(2, 4, 2, 300, 12, true, null)]
    [InlineData(1, 3, 1, 600, 8, false, "window:64")]
    [InlineData(1, 2, 1, 31, 8, false, "block:16:10/00")]
    [InlineData(1, 2, 1, 520, 6, true, "bigbird:32:1:2")]
    public void Backward_reference_must_equal_the_dense_oracle_on_every_row(int batch, int heads, int kvHeads, int n, int d, bool causal, string? spec)
    {
        var shape = new AttentionShape(batch, heads, kvHeads, n, d);
        var input = AttentionInput.Random(shape, seed: n);
        var outputGradient = AttentionInput.Random(shape, seed: n + 7).Q;
        var pattern = spec is null ? null : PatternSpec.Parse(spec, new PatternContext(n, Seed: 1, Causal: causal, Input: input));
        var options = new AttentionOptions(Causal: causal, Pattern: pattern);
        var (dQ, dK, dV) = ReferenceBackward.Compute(input, outputGradient, options);
        var all = Enumerable.Range(0, n).ToArray();

        for (var b = 0; b < batch; b++)
        {
            for (var h = 0; h < heads; h++)
            {
                var rows = new double[n * d];
                TiledBackwardReference.QueryRows(input, outputGradient, options, b, h, all, rows);
                AssertClose(dQ.AsSpan(((b * heads) + h) * n * d, n * d), rows, $"dQ b={b} h={h}");
            }

            for (var g = 0; g < kvHeads; g++)
            {
                var keys = new double[n * d];
                var values = new double[n * d];
                TiledBackwardReference.KeyRows(input, outputGradient, options, b, g, all, keys, values);
                AssertClose(dK.AsSpan(((b * kvHeads) + g) * n * d, n * d), keys, $"dK b={b} g={g}");
                AssertClose(dV.AsSpan(((b * kvHeads) + g) * n * d, n * d), values, $"dV b={b} g={g}");
            }
        }
    }

    [Fact]
    public void Backward_reference_must_give_sampled_rows_their_dense_values()
    {
        var shape = new AttentionShape(1, 4, 2, 700, 16);
        var input = AttentionInput.Random(shape, seed: 4);
        var outputGradient = AttentionInput.Random(shape, seed: 5).Q;
        var options = new AttentionOptions(Causal: true);
        var (_, dK, dV) = ReferenceBackward.Compute(input, outputGradient, options);
        int[] sample = [0, 1, 255, 256, 511, 699];
        var keys = new double[sample.Length * 16];
        var values = new double[sample.Length * 16];
        TiledBackwardReference.KeyRows(input, outputGradient, options, 0, 1, sample, keys, values);
        for (var s = 0; s < sample.Length; s++)
        {
            var offset = ((1 * 700) + sample[s]) * 16;
            AssertClose(dK.AsSpan(offset, 16), keys.AsSpan(s * 16, 16), $"dK key {sample[s]}");
            AssertClose(dV.AsSpan(offset, 16), values.AsSpan(s * 16, 16), $"dV key {sample[s]}");
        }
    }

    [Fact]
    public void Compare_must_pass_the_kernel_and_catch_a_wrong_gradient()
    {
        var shape = new AttentionShape(2, 4, 2, 400, 16);
        var input = AttentionInput.Random(shape, seed: 6);
        var outputGradient = AttentionInput.Random(shape, seed: 7).Q;
        var options = new AttentionOptions(Causal: true, Threads: 2);
        var gradients = BlockwiseBackward.Compute(input, outputGradient, options);
        var queryRows = RowSample.Choose(shape, options, 40, seed: 1, [0, 199, 200, 399]).Rows;
        var keyRows = RowSample.Choose(shape with { Heads = shape.KvHeads }, AttentionOptions.Default, 40, seed: 2, [0, 399]).Rows;

        var (q, k, v) = TiledBackwardReference.Compare(input, outputGradient, options, gradients, queryRows, keyRows);
        Assert.True(q.RelativeError < 2e-5 && k.RelativeError < 2e-5 && v.RelativeError < 2e-5, $"kernel: dQ {q.RelativeError}, dK {k.RelativeError}, dV {v.RelativeError}");

        // A key gradient off by 1% on one sampled key must show: key 0 (always sampled), which every causal query attends.
        var key = (int)keyRows[0];
        Assert.Equal(0, key);
        for (var c = 0; c < 16; c++)
        {
            gradients.Keys[(key * 16) + c] *= 1.01f;
        }

        var (_, wrong, _) = TiledBackwardReference.Compare(input, outputGradient, options, gradients, queryRows, keyRows);
        Assert.True(wrong.RelativeError > 1e-3, $"a 1% error on key row {key} gave relative error {wrong.RelativeError}");
    }

    [Fact]
    public void Backward_reference_must_refuse_unsorted_positions_and_wrong_lengths()
    {
        var shape = new AttentionShape(1, 1, 1, 10, 4);
        var input = AttentionInput.Random(shape, seed: 1);
        var error = Assert.Throws<ArgumentException>(() => TiledBackwardReference.KeyRows(input, input.Q, AttentionOptions.Default, 0, 0, [3, 2], new double[8], new double[8]));
        Assert.Equal("positions", error.ParamName);
        error = Assert.Throws<ArgumentException>(() => TiledBackwardReference.QueryRows(input, input.Q, AttentionOptions.Default, 0, 0, [1, 2], new double[7]));
        Assert.Equal("queryGradient", error.ParamName);
        error = Assert.Throws<ArgumentException>(() => TiledBackwardReference.QueryRows(input, new float[3], AttentionOptions.Default, 0, 0, [1], new double[4]));
        Assert.Equal("outputGradient", error.ParamName);
    }

    private static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, string context)
    {
        var magnitude = 0.0;
        foreach (var value in expected)
        {
            magnitude = System.Math.Max(magnitude, System.Math.Abs(value));
        }

        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(System.Math.Abs(expected[i] - actual[i]) <= Tolerance * (magnitude + 1e-300), $"{context}[{i}]: expected {expected[i]}, got {actual[i]}");
        }
    }
}
