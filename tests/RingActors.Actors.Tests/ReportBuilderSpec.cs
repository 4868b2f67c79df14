using RingActors.Math;
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
        var stages = new List<string>();

        var report = await new ReportBuilder(Sys).BuildAsync(input, settings, ring, new ReportOptions([new WindowPattern(16)]), new Stages(stages));

        Assert.True(report.RingError.RelativeError < 1e-5, $"relative error {report.RingError.RelativeError}");
        Assert.Equal(["dense", "window:16", "ring"], report.Comparison.Select(r => r.Method));
        Assert.Equal(["dense baseline", "window:16 baseline", "ring at N/2"], stages);
        Assert.Equal(131.0 / 260, report.Dense.Density, 1e-12); // causal: N(N+1)/2 of N² pairs
        Assert.Equal(4.0 * 8 * 130 * 130 * 4, report.Dense.Flops);
        var window = Assert.Single(report.Sparse);
        Assert.Equal(CausalWindowPairs(130, 8) / (130.0 * 130), window.Density, 1e-12);
        Assert.True(window.ErrorVsDense.RelativeError > 0.01); // a different function, not an approximation error
        Assert.True(window.Flops < report.Dense.Flops);
        Assert.Equal(report.Dense.Density, report.Comparison[^1].Density);
        Assert.True(report.Comparison[^1].PeakBytesPerDevice < report.Dense.PeakBytes);
        Assert.All(report.Comparison, r => Assert.NotNull(r.ScalingRatio));
        Assert.Equal(4 * 3, report.HandOffs);
        Assert.Equal("zigzag", report.Layout);
        Assert.Equal("report-job", report.JobId);
    }

    [Fact]
    public async Task ReportBuilder_must_compare_a_sparse_ring_with_dense_under_the_same_pattern()
    {
        var shape = new AttentionShape(1, 2, 2, 64, 8);
        var input = AttentionInput.Random(shape, seed: 22);
        var settings = new RingJobSettings(2, LayoutKind.Contiguous, Pattern: new WindowPattern(8));
        var ring = await RingRunner.RunAsync(Sys, input, settings);

        var report = await new ReportBuilder(Sys).BuildAsync(input, settings, ring, ReportOptions.Default with { MeasureScaling = false });

        Assert.True(report.RingError.RelativeError < 1e-5);
        Assert.Equal(1.0, report.Dense.Density);
        Assert.True(report.Comparison[^1].Density < 0.2);
        Assert.All(report.Comparison, r => Assert.Null(r.HalfTime));
    }

    [Fact]
    public void PairCounting_must_count_exactly_what_the_mask_allows()
    {
        var shape = new AttentionShape(2, 3, 1, 100, 4);
        Assert.Equal(6L * 100 * 100, PairCounting.AllowedPairs(shape, AttentionOptions.Default));
        Assert.Equal(6L * 5050, PairCounting.AllowedPairs(shape, new AttentionOptions(Causal: true)));
        var window = new WindowPattern(10);
        var brute = Enumerable.Range(0, 100).Sum(i => Enumerable.Range(0, 100).Count(j => window.Allows(i, j)));
        Assert.Equal(6L * brute, PairCounting.AllowedPairs(shape, new AttentionOptions(Pattern: window)));
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
