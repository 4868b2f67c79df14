namespace RingActors.Math.Tests;

public class SoftmaxMergeSpec
{
    private const int Dim = 5;

    [Fact]
    public void MergeRow_must_be_order_independent()
    {
        var random = new Random(7);
        var partials = Enumerable.Range(0, 6).Select(_ => RandomPartial(random)).ToList();
        var forward = Fold(partials);
        var backward = Fold(Enumerable.Reverse(partials));
        var shuffled = Fold(partials.OrderBy(_ => random.Next()));
        var tree = Merge(Merge(Fold(partials.Take(3)), Fold(partials.Skip(3).Take(2))), partials[5]);
        foreach (var other in new[] { backward, shuffled, tree })
        {
            Assert.Equal(forward.Lse, other.Lse, 5);
            for (var c = 0; c < Dim; c++)
            {
                Assert.Equal(forward.Output[c], other.Output[c], 5);
            }
        }
    }

    [Fact]
    public void MergeRow_must_treat_zero_and_minus_infinity_as_identity()
    {
        var random = new Random(3);
        var partial = RandomPartial(random);
        var identity = (Output: new float[Dim], Lse: float.NegativeInfinity);
        var left = Merge(identity, partial);
        var right = Merge(partial, identity);
        Assert.Equal(partial.Output, left.Output);
        Assert.Equal(partial.Lse, left.Lse);
        Assert.Equal(partial.Output, right.Output);
        Assert.Equal(partial.Lse, right.Lse);
    }

    [Fact]
    public void MergeRow_of_two_identities_must_be_the_identity_never_NaN()
    {
        var identity = (Output: new float[Dim], Lse: float.NegativeInfinity);
        var merged = Merge(identity, identity);
        Assert.True(float.IsNegativeInfinity(merged.Lse));
        Assert.All(merged.Output, value => Assert.Equal(0f, value));
    }

    [Fact]
    public void MergeRow_must_equal_softmax_over_the_union_of_two_key_sets()
    {
        // Two key sets with logits a and b: the merge must equal softmax over a ∪ b, computed directly.
        double[] a = [1.5, -2, 0.25];
        double[] b = [3, 0.5];
        double[][] values = [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]];
        var first = Direct(a, values[..3]);
        var second = Direct(b, values[3..]);
        var union = Direct([.. a, .. b], values);
        var output = first.Output.ToArray();
        var lse = first.Lse;
        SoftmaxMerge.MergeRow(output, ref lse, second.Output, second.Lse);
        Assert.Equal(union.Lse, lse, 5);
        Assert.Equal(union.Output[0], output[0], 5);
        Assert.Equal(union.Output[1], output[1], 5);
    }

    [Fact]
    public void MergeRow_must_stay_finite_for_extreme_log_sum_exps()
    {
        var output = new float[] { 1, 1 };
        var lse = 80f;
        SoftmaxMerge.MergeRow(output, ref lse, new float[] { 3, 3 }, -80f);
        Assert.All(output, value => Assert.True(float.IsFinite(value)));
        Assert.Equal(1f, output[0], 5);
        SoftmaxMerge.MergeRow(output, ref lse, new float[] { 2, 2 }, 80f);
        Assert.Equal(1.5f, output[0], 5);
        Assert.Equal(80f + MathF.Log(2f), lse, 4);
    }

    [Fact]
    public void MergeRow_must_refuse_rows_of_different_lengths()
    {
        var lse = 0f;
        var error = Assert.Throws<ArgumentException>(() => SoftmaxMerge.MergeRow(new float[3], ref lse, new float[4], 0f));
        Assert.Contains("3", error.Message);
        Assert.Contains("4", error.Message);
    }

    private static (float[] Output, float Lse) Direct(double[] logits, double[][] values)
    {
        var max = logits.Max();
        var weights = logits.Select(l => System.Math.Exp(l - max)).ToArray();
        var sum = weights.Sum();
        var output = new float[values[0].Length];
        for (var c = 0; c < output.Length; c++)
        {
            output[c] = (float)Enumerable.Range(0, logits.Length).Sum(j => weights[j] / sum * values[j][c]);
        }

        return (output, (float)(max + System.Math.Log(sum)));
    }

    private static (float[] Output, float Lse) RandomPartial(Random random) =>
        (Enumerable.Range(0, Dim).Select(_ => (float)random.NextDouble() * 2 - 1).ToArray(), (float)(random.NextDouble() * 20 - 10));

    private static (float[] Output, float Lse) Merge((float[] Output, float Lse) a, (float[] Output, float Lse) b)
    {
        var output = a.Output.ToArray();
        var lse = a.Lse;
        SoftmaxMerge.MergeRow(output, ref lse, b.Output, b.Lse);
        return (output, lse);
    }

    private static (float[] Output, float Lse) Fold(IEnumerable<(float[] Output, float Lse)> partials) =>
        partials.Aggregate((Output: new float[Dim], Lse: float.NegativeInfinity), Merge);
}
