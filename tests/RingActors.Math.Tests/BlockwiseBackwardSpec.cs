
namespace RingActors.Math.Tests;

public sealed class BlockwiseBackwardSpec
{
    [Theory]
    [InlineData(1, 2, 2, 31, 8, false)]
    [InlineData(2, 4, 2, 37, 16, true)]
    [InlineData(1, 3, 1, 29, 5, true)]
    public void Backward_must_equal_the_float64_oracle(int batch, int heads, int kvHeads, int n, int d, bool causal)
    {
        var shape = new AttentionShape(batch, heads, kvHeads, n, d);
        var input = AttentionInput.Random(shape, seed: n);
        var outputGradient = AttentionInput.Random(shape, seed: n + 1).Q;
        var options = new AttentionOptions(Causal: causal);

        var actual = BlockwiseBackward.Compute(input, outputGradient, options);
        var (dQ, dK, dV) = ReferenceBackward.Compute(input, outputGradient, options);

        AssertClose(dQ, actual.Queries);
        AssertClose(dK, actual.Keys);
        AssertClose(dV, actual.Values);
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

    private static void AssertClose(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(System.Math.Abs(expected[i] - actual[i]) <= 1e-4 * (1 + System.Math.Abs(expected[i])), $"element {i}: expected {expected[i]}, got {actual[i]}");
        }
    }
}
