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

        Assert.True(report.Exact, $"relative error {report.RingError?.RelativeError}");
        Assert.True(report.RingError!.Value.RelativeError < 1e-5);
        Assert.Equal(4 * 130, report.Verification!.Result!.RowsChecked); // 520 rows: the default checks every one, full or rows:4096
        Assert.Equal(["dense", "window:16", bigBird.Name, "ring"], report.Comparison.Select(r => r.Method));
        Assert.Equal(["ring at N/2", "ring at N", "verification", "dense baseline", "window:16 baseline", $"{bigBird.Name} baseline"], stages);
        Assert.All(report.Comparison, row => Assert.Equal(3, row.Timing!.Runs));
        Assert.All(report.Comparison, row => Assert.True(row.Timing!.Min <= row.Time && row.Time <= row.Timing.Max));
        Assert.Equal(report.Comparison[0].Time / report.Comparison[0].HalfTime!.Value, report.Comparison[0].ScalingRatio!.Value, 9);
        Assert.Equal(1.0, report.Dense.Density);
        Assert.Equal(4.0 * 8 * 130 * 130 * 4, report.Dense.Flops);
        var window = report.Sparse[0];
        Assert.Equal(CausalWindowPairs(130, 8) / (130.0 * 131 / 2), window.Density, 1e-12); // causal: a fraction of the causal pairs
        Assert.True(window.ErrorVsDense!.Value.RelativeError > 0.01); // the price of the pattern, not round-off
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

        Assert.True(report.Exact);
        Assert.True(report.RingError!.Value.RelativeError < 1e-5);
        Assert.Equal(1.0, report.Dense.Density);
        var expectedDensity = (double)Enumerable.Range(0, 64).Sum(i => Enumerable.Range(0, 64).Count(j => window.Allows(i, j))) / (64 * 64);
        Assert.Equal(expectedDensity, report.Comparison[^1].Density, 1e-12);
        Assert.All(report.Comparison, r => Assert.Null(r.HalfTime));
    }

    [Fact]
    public async Task ReportBuilder_must_report_a_baseline_that_does_not_fit_and_still_verify_the_ring()
    {
        var shape = new AttentionShape(1, 2, 1, 96, 8);
        var input = AttentionInput.Random(shape, seed: 23);
        var settings = new RingJobSettings(3, LayoutKind.Zigzag, Causal: true);
        var ring = await RingRunner.RunAsync(Sys, input, settings);
        var memory = JobMemory.Estimate(shape, 3, measureScaling: false, referenceThreads: 1);

        // Memory for the job but not for the dense scores on top of it.
        var options = new ReportOptions([new SlidingWindowPattern(8)], MeasureScaling: false, Verify: Math.Verification.VerifyMode.Parse("rows:40"), MemoryAvailable: memory.Required + 1);
        var report = await new ReportBuilder(Sys).BuildAsync(input, settings, ring, options);

        Assert.Equal(memory.Inputs + JobMemory.DenseBytes(shape), report.Dense.NeedsBytes);
        Assert.Equal(report.Dense.NeedsBytes, report.Comparison[0].NeedsBytes);
        Assert.NotNull(report.Sparse[0].NeedsBytes);
        Assert.Null(report.Comparison[^1].NeedsBytes);
        Assert.Equal("rows:40", report.Verification!.Mode);
        Assert.Equal(40, report.Verification.Result!.RowsChecked);
        Assert.True(report.Exact);
    }

    [Fact]
    public void JobMemory_must_count_the_backward_buffers_for_a_backward_job()
    {
        var shape = new AttentionShape(2, 4, 2, 1000, 16);
        var forward = JobMemory.Estimate(shape, 4, measureScaling: false, referenceThreads: 1);
        var backward = JobMemory.Estimate(shape, 4, measureScaling: false, referenceThreads: 1, backward: true);

        // Bytes, counted here from the shape: dO twice, dQ and D, the homes' dK/dV, two contributions in flight per device, the
        // reassembled gradients; per device (chunk 250) its dO and dQ, D, its dK/dV sums and two outgoing contributions, and
        // the backward kernel's scratch for one block on one thread (every device's in the ring's total).
        long q = 2 * 4 * 1000 * 16 * 4, kv = 2 * 2 * 1000 * 16 * 4, rows = 2 * 4 * 1000 * 4;
        var kernel = Math.BlockwiseBackward.ScratchBytes(2, 250, 250, 16, threads: 1);
        Assert.Equal(forward.Ring + (3 * q) + rows + (2 * kv) + (4 * kv) + q + (2 * kv) + (4 * kernel), backward.Ring);
        long chunkQ = 2 * 4 * 250 * 16 * 4, chunkKv = 2 * 2 * 250 * 16 * 4, chunkRows = 2 * 4 * 250 * 4;
        Assert.Equal(forward.PerDevice + (2 * chunkQ) + (6 * chunkKv) + chunkRows + kernel, backward.PerDevice);
        Assert.Equal(forward.Inputs, backward.Inputs);
    }

    [Fact]
    public void JobMemory_must_refuse_a_job_larger_than_the_memory_available_naming_the_sizes()
    {
        var memory = JobMemory.Estimate(new AttentionShape(1, 8, 8, 1 << 20, 128), 8, measureScaling: true, referenceThreads: 2);
        Assert.Equal(3L * 8 * (1 << 20) * 128 * 4, memory.Inputs); // Q, K, V: 4 GiB each
        Assert.Null(memory.Shortfall(memory.Required));
        var refusal = memory.Shortfall(memory.Required - 1);
        Assert.NotNull(refusal);
        Assert.StartsWith($"the job needs {JobMemory.GiB(memory.Required)} (inputs 12.00 GiB", refusal);
        Assert.Contains($"but only {JobMemory.GiB(memory.Required - 1)} is available", refusal);
    }

    [Fact]
    public void JobMemory_law_must_count_six_blocks_of_fp32_with_grouped_query_heads()
    {
        Assert.Equal(6L * 1000 * 64 * 4, JobMemory.LawBytesPerDevice(new AttentionShape(1, 1, 1, 8000, 64), 1000));
        Assert.Equal(((2L * 8) + (4L * 2)) * 1000 * 64 * 4, JobMemory.LawBytesPerDevice(new AttentionShape(1, 8, 2, 8000, 64), 1000));
    }

    [Fact]
    public void Timing_must_be_the_median_and_spread_of_its_runs()
    {
        var timing = Timing.Of([TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)]);
        Assert.Equal(TimeSpan.FromSeconds(2), timing.Median);
        Assert.Equal(TimeSpan.FromSeconds(1), timing.Min);
        Assert.Equal(TimeSpan.FromSeconds(3), timing.Max);
        Assert.Equal(1.0, timing.Spread, 12);
        Assert.Equal(TimeSpan.FromSeconds(2.5), Timing.Of([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(9)]).Median);
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
