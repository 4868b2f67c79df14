using RingActors.Math;
using RingActors.Math.Masks;
using Xunit.Abstractions;

namespace RingActors.Actors.Tests;

public class ReportBuilderSpec(ITestOutputHelper output) : RingTestKit(output)
{
    [Fact]
    public async Task ReportBuilder_must_compare_the_ring_with_dense_and_sparse_baselines()
    {
        var shape = new AttentionShape(1, 4, 2, 130, 8);
        var input = AttentionInput.Random(shape, seed: 21);
        var settings = new RingJobSettings(4, LayoutKind.Zigzag, Causal: true, JobId: "report-job");
        var ring = await RingRunner.RunAsync(Sys, input, settings);
        var bigBird = new BigBirdPattern(16, 1, 1, shape.SeqLen, seed: 3);
        var stages = new List<string>();

        var report = await new ReportBuilder(Sys).BuildAsync(
            input, settings, ring, new ReportOptions([new SlidingWindowPattern(16), bigBird]), new Stages(stages));

        Assert.True(report.RingError.RelativeError < 1e-5, $"relative error {report.RingError.RelativeError}");
        Assert.Equal(["dense", "window:16", bigBird.Name, "ring"], report.Comparison.Select(r => r.Method));
        Assert.Equal(["warm-up", "dense baseline", "window:16 baseline", $"{bigBird.Name} baseline", "ring at N/2 and N"], stages);
        Assert.Equal(1.0, report.Dense.Density);
        Assert.Equal(4.0 * 8 * 130 * 130 * 4, report.Dense.Flops);
        var window = report.Sparse[0];
        Assert.Equal(CausalWindowPairs(130, 8) / (130.0 * 131 / 2), window.Density, 1e-12); // causal: a fraction of the causal pairs
        Assert.True(window.ErrorVsDense.RelativeError > 0.01); // the price of the pattern, not round-off
        Assert.True(window.Flops < report.Dense.Flops);
        Assert.Equal(1.0, report.Comparison[^1].Density, 1e-12);
        Assert.True(report.Comparison[^1].PeakBytesPerDevice < report.Dense.PeakBytes);
        Assert.NotNull(report.Comparison[0].ScalingRatio);
        Assert.NotNull(report.Comparison[1].ScalingRatio);
        Assert.Null(report.Comparison[2].HalfTime); // BigBird's random table was drawn for N: nothing comparable at N/2
        Assert.NotNull(report.Comparison[3].ScalingRatio);
        Assert.Equal(4 * 3, report.HandOffs);
        Assert.Equal("zigzag", report.Layout);
        Assert.Equal("report-job", report.JobId);
    }

    [Fact]
    public async Task ReportBuilder_must_compare_a_sparse_ring_with_dense_under_the_same_pattern()
    {
        var shape = new AttentionShape(1, 2, 2, 64, 8);
        var input = AttentionInput.Random(shape, seed: 22);
        var window = new SlidingWindowPattern(8);
        var settings = new RingJobSettings(2, LayoutKind.Contiguous, Pattern: window);
        var ring = await RingRunner.RunAsync(Sys, input, settings);

        var report = await new ReportBuilder(Sys).BuildAsync(input, settings, ring, ReportOptions.Default with { MeasureScaling = false });

        Assert.True(report.RingError.RelativeError < 1e-5);
        Assert.Equal(1.0, report.Dense.Density);
        var expectedDensity = (double)Enumerable.Range(0, 64).Sum(i => Enumerable.Range(0, 64).Count(j => window.Allows(i, j))) / (64 * 64);
        Assert.Equal(expectedDensity, report.Comparison[^1].Density, 1e-12);
        Assert.All(report.Comparison, r => Assert.Null(r.HalfTime));
    }

    [Fact]
    public void InputSlicing_must_keep_the_first_tokens_of_every_head()
    {
        var input = AttentionInput.Random(new AttentionShape(2, 2, 1, 9, 3), seed: 1);
        var prefix = InputSlicing.Prefix(input, 4);
        Assert.Equal(new AttentionShape(2, 2, 1, 4, 3), prefix.Shape);
        Assert.Equal(input.Q.AsSpan(9 * 3, 4 * 3).ToArray(), prefix.Q.AsSpan(4 * 3, 4 * 3).ToArray());
        Assert.Equal(input.V.AsSpan(9 * 3, 4 * 3).ToArray(), prefix.V.AsSpan(4 * 3, 4 * 3).ToArray());
        Assert.Throws<ArgumentException>(() => InputSlicing.Prefix(input, 10));
    }

    private static long CausalWindowPairs(int tokens, int back) =>
        Enumerable.Range(0, tokens).Sum(i => (long)System.Math.Min(i, back) + 1);

    private sealed class Stages(List<string> stages) : IProgress<string>
    {
        public void Report(string value) => stages.Add(value);
    }
}
