using RingActors.Math;
using RingActors.Math.Masks;
using Xunit.Abstractions;

namespace RingActors.Actors.Tests.Backward;

/// <summary>
/// The backward ring against the float64 oracle (<see cref="ReferenceBackward"/>): dQ, dK and dV in the original token order
/// on every ring size 1..8, layout, causal or not, GQA, odd lengths and sparse patterns. Tolerance: each gradient's worst
/// element within 2e-5 × (1 + the oracle's largest magnitude of that gradient) — float32 sums over at most a few hundred
/// keys with P fp32 merges.
/// </summary>
public class BackwardRingSpec(ITestOutputHelper output) : RingTestKit(output)
{
    internal const double Tolerance = 2e-5;

    public static TheoryData<int, LayoutKind, bool> Rings()
    {
        var data = new TheoryData<int, LayoutKind, bool>();
        foreach (var devices in new[] { 1, 2, 3, 4, 5, 6, 7, 8 })
        {
            foreach (var layout in new[] { LayoutKind.Contiguous, LayoutKind.Zigzag, LayoutKind.Striped })
            {
                data.Add(devices, layout, devices % 2 == 0 ^ layout == LayoutKind.Striped);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Rings))]
    public async Task BackwardRing_must_equal_the_float64_oracle_on(int devices, LayoutKind layout, bool causal)
    {
        var shape = new AttentionShape(2, 4, 2, 31, 8);
        var input = AttentionInput.Random(shape, seed: devices * 7 + (int)layout);
        var settings = Settings(new RingJobSettings(devices, layout, Causal: causal), input, seed: devices);

        var result = await RingRunner.RunAsync(Sys, input, settings);

        AssertGradients(input, settings, result);
        var backward = Assert.IsAssignableFrom<IReadOnlyList<Protocol.DeviceStats>>(result.BackwardDevices);
        Assert.All(backward, d => Assert.Equal(devices, d.ContributionsSummed));
        Assert.All(backward, d => Assert.Equal(devices - 1, d.HandOffsSent));
        Assert.All(backward, d => Assert.Equal(10.0 * shape.HeadDim * d.PairsComputed, d.Flops));
        // The backward counts the pairs it computed; the forward kernel counts whole tiles, so never fewer.
        Assert.InRange(backward.Sum(d => d.PairsComputed), 1, result.PairsComputed);
        Assert.All(backward, d => Assert.InRange(d.PeakBlocksHeld, 1, 2));
        Assert.NotNull(result.BackwardTimeline);
    }

    [Theory]
    [InlineData(257, 4, 4, 1, LayoutKind.Zigzag, true)]
    [InlineData(257, 3, 6, 2, LayoutKind.Striped, false)]
    [InlineData(31, 8, 2, 2, LayoutKind.Contiguous, true)]
    public async Task BackwardRing_must_equal_the_oracle_with_grouped_heads_and_odd_lengths(int tokens, int devices, int heads, int kvHeads, LayoutKind layout, bool causal)
    {
        var shape = new AttentionShape(1, heads, kvHeads, tokens, 16);
        var input = AttentionInput.Random(shape, seed: tokens + heads);
        var settings = Settings(new RingJobSettings(devices, layout, Causal: causal), input, seed: 2);

        var result = await RingRunner.RunAsync(Sys, input, settings);

        AssertGradients(input, settings, result);
    }

    [Theory]
    [InlineData("window:5", true, true)]
    [InlineData("bigbird:4:1:1", false, false)]
    public async Task BackwardRing_must_equal_the_oracle_on_a_sparse_pattern(string spec, bool causal, bool skips)
    {
        var shape = new AttentionShape(1, 2, 1, 64, 8);
        var input = AttentionInput.Random(shape, seed: spec.Length);
        var pattern = PatternSpec.Parse(spec, new PatternContext(shape.SeqLen, 5, causal));
        var settings = Settings(new RingJobSettings(4, LayoutKind.Contiguous, Causal: causal, Pattern: pattern), input, seed: 4);

        var result = await RingRunner.RunAsync(Sys, input, settings);

        AssertGradients(input, settings, result);
        if (skips)
        {
            // A window over contiguous chunks leaves the far (chunk, block) pairs empty: skipped, and their contribution is zero.
            Assert.True(result.BackwardDevices!.Sum(d => d.BlocksSkipped) > 0, "a window over contiguous chunks leaves some (chunk, block) pairs empty");
        }
    }

    [Fact]
    public async Task BackwardRing_must_keep_bf16_partials_within_their_bound_and_above_fp32_error()
    {
        var shape = new AttentionShape(1, 2, 1, 64, 16);
        var input = AttentionInput.Random(shape, seed: 9);
        var fp32 = Settings(new RingJobSettings(4, LayoutKind.Zigzag, Causal: true), input, seed: 1);
        var bf16 = fp32 with { PartialPrecision = PartialPrecision.Bf16 };

        var exact = await RingRunner.RunAsync(Sys, input, fp32);
        var rounded = await RingRunner.RunAsync(Sys, input, bf16);

        var (dQ, dK, dV) = ReferenceBackward.Compute(input, fp32.Backward!.OutputGradient, fp32.OptionsFor(1));
        var fp32Error = Relative(exact.Gradients!.Keys, dK);
        var bf16Error = Relative(rounded.Gradients!.Keys, dK);
        Assert.True(bf16Error > fp32Error, $"bf16 {bf16Error} vs fp32 {fp32Error}");
        // bf16 keeps 8 significant bits: a relative error of 2⁻⁸ per partial, a few of them summed.
        Assert.InRange(bf16Error, 0, 2e-2);
        Assert.InRange(Relative(rounded.Gradients.Queries, dQ), 0, 2e-2);
        Assert.InRange(Relative(rounded.Gradients.Values, dV), 0, 2e-2);
        Assert.True(Relative(rounded.Output, Forward(input, fp32)) > Relative(exact.Output, Forward(input, fp32)), "bf16 partials round the forward too");
    }

    /// <summary>The settings with a seeded standard-normal dO.</summary>
    internal static RingJobSettings Settings(RingJobSettings settings, AttentionInput input, int seed) =>
        settings with { Backward = new BackwardPass(AttentionInput.Random(input.Shape, seed + 1000).Q), Deadline = settings.Deadline ?? TimeSpan.FromSeconds(20) };

    internal static void AssertGradients(AttentionInput input, RingJobSettings settings, RingResult result)
    {
        var gradients = Assert.IsType<AttentionGradients>(result.Gradients);
        var (dQ, dK, dV) = ReferenceBackward.Compute(input, settings.Backward!.OutputGradient, settings.OptionsFor(1));
        AssertClose("dQ", gradients.Queries, dQ);
        AssertClose("dK", gradients.Keys, dK);
        AssertClose("dV", gradients.Values, dV);
    }

    private static void AssertClose(string name, float[] actual, double[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = 1 + expected.Max(System.Math.Abs);
        var worst = 0.0;
        var at = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var error = System.Math.Abs(actual[i] - expected[i]);
            if (!(error <= worst))
            {
                worst = error;
                at = i;
            }
        }

        Assert.True(worst <= Tolerance * scale, $"{name}[{at}] = {actual[at]}, the oracle's {expected[at]}: |error| {worst} > {Tolerance} × {scale}");
    }

    private static double Relative(float[] actual, double[] expected)
    {
        double error = 0, norm = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            error += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += expected[i] * expected[i];
        }

        return System.Math.Sqrt(error / norm);
    }

    private static double[] Forward(AttentionInput input, RingJobSettings settings) => ReferenceAttention.Compute(input, settings.OptionsFor(1)).Output;
}
