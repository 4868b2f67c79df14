using RingActors.Math.Masks;
using RingActors.Math.Verification;

namespace RingActors.Math.Tests;

public sealed class BackwardCheckSpec
{
    [Theory]
    [InlineData(1, 4, 2, 37, 8, true, null)]
    [InlineData(2, 2, 1, 31, 5, false, null)]
    [InlineData(2, 4, 2, 300, 12, true, null)]
    [InlineData(1, 3, 1, 600, 8, false, "window:64")]
    [InlineData(1, 2, 1, 31, 8, false, "block:16:10/00")]
    [InlineData(1, 2, 1, 520, 6, true, "bigbird:32:1:2")]
    public void Sampled_check_of_every_row_must_equal_the_dense_oracle_check(int batch, int heads, int kvHeads, int n, int d, bool causal, string? spec)
    {
        var shape = new AttentionShape(batch, heads, kvHeads, n, d);
        var input = AttentionInput.Random(shape, seed: n);
        var outputGradient = AttentionInput.RandomOutputGradient(shape, seed: n);
        var pattern = spec is null ? null : PatternSpec.Parse(spec, new PatternContext(n, Seed: 1, Causal: causal, Input: input));
        var options = new AttentionOptions(Causal: causal, Pattern: pattern);
        var actual = BlockwiseBackward.Compute(input, outputGradient, options);

        var dense = BackwardCheck.Dense(input, options, outputGradient, actual);
        var sampled = BackwardCheck.Sampled(input, options, outputGradient, actual, rows: batch * heads * n, seed: 1, threads: 2);

        Assert.Equal(batch * heads * n, sampled.QueryRowsChecked);
        Assert.Equal(batch * kvHeads * n, sampled.KeyRowsChecked);
        // Both references are float64 from their own loops: the errors they find agree to far below the errors themselves.
        foreach (var (a, b) in new[] { (dense.Queries, sampled.Queries), (dense.Keys, sampled.Keys), (dense.Values, sampled.Values) })
        {
            Assert.InRange(a.RelativeError, 1e-9, 1e-5);
            Assert.Equal(a.RelativeError, b.RelativeError, a.RelativeError * 1e-3);
            Assert.Equal(a.MaxAbsError, b.MaxAbsError, a.MaxAbsError * 1e-3);
        }
    }

    [Fact]
    public void Sampled_check_must_find_one_wrong_key_row_it_samples_and_a_wrong_query_row()
    {
        var shape = new AttentionShape(1, 2, 1, 64, 8);
        var input = AttentionInput.Random(shape, seed: 5);
        var outputGradient = AttentionInput.RandomOutputGradient(shape, seed: 5);
        var options = new AttentionOptions(Causal: true, Pattern: PatternSpec.Parse("window:9", new PatternContext(64, 1, true, input)));
        var actual = BlockwiseBackward.Compute(input, outputGradient, options);
        actual.Values[(63 * 8) + 3] += 0.5f; // the last token's dV: a key row every sample holds
        actual.Queries[5] = float.NaN;       // the first token's dQ: a query row every sample holds

        var sampled = BackwardCheck.Sampled(input, options, outputGradient, actual, rows: 8, seed: 2, threads: 1);

        Assert.Equal(0.5, sampled.Values.MaxAbsError, 1e-4);
        Assert.True(sampled.Keys.RelativeError < 1e-5);
        Assert.True(double.IsPositiveInfinity(sampled.Queries.RelativeError));
    }
}
