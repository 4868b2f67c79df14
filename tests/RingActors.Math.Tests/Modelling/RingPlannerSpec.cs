using RingActors.Math.Modelling;

namespace RingActors.Math.Tests.Modelling;

public class RingPlannerSpec
{
    // Compute-bound: the link is so fast that only the work decides the timeline.
    private static readonly DeviceProfile FastLink = ProfileCatalog.Custom(flops: 1e12, bandwidth: 1e18, latencySeconds: 0, memoryBytes: 1L << 34);

    [Fact]
    public void Plan_must_give_the_papers_memory_for_8_devices_at_524288_tokens()
    {
        var plan = RingPlanner.Plan(new PlanRequest(ProfileCatalog.Get("a100-nvlink"), Devices: 8, SeqLen: 524_288, Heads: 32, KvHeads: 8, HeadDim: 128,
            Layout: LayoutKind.Zigzag, Causal: true));

        const long b = 1, c = 524_288 / 8, h = 32 * 128;
        Assert.Equal(c, plan.BlockSize);
        Assert.Equal(6.0 * b * c * h, plan.MemoryPerDeviceBytes);
        Assert.True(plan.Fits);
        Assert.Equal(b * c * 128 * ((2 * 32) + (4 * 8)) * 2.0, plan.ResidentBytesPerDevice);
        Assert.Equal(2.0 * b * h * 524_288.0 * 524_288, plan.DenseMemoryBytes);
        Assert.Equal(2.0 * b * 524_288 * h, plan.BlockwiseMemoryBytes);
        Assert.Equal(8.0 * b * 524_288 * h, plan.MemoryEfficientMemoryBytes);

        Assert.Equal(1040, plan.PaperMinBlockSize, 1e-9);
        Assert.Equal(260, plan.MinBlockSize, 1e-9); // 4 query heads share each K/V head
        Assert.Equal(6 * 260, plan.MinSeqPerDevice, 1e-9);
        Assert.True(plan.MinBlockSizeWithLatency > plan.MinBlockSize);
        Assert.Equal(1, plan.Overlap, 1e-12); // 65536-token blocks are far above c
        Assert.Equal(8 * 7, plan.Timeline.HandOffs);
        Assert.Equal(plan.PredictedSeconds / 8, plan.PerStepSeconds, 1e-15);
        Assert.Equal(2L * c * 128 * 8 * 2, plan.HandOffBytes);

        // Causal halves the work: N(N+1)/2 pairs, 4·d FLOPs per pair and head.
        Assert.Equal(4.0 * 128 * 32 * (524_288.0 * 524_289 / 2), plan.TotalFlops);
        Assert.True(RingPlanner.Plan(plan.Request with { DataType = ElementType.Fp32 }).MemoryPerDeviceBytes == 2 * plan.MemoryPerDeviceBytes);
    }

    [Fact]
    public void Plan_must_report_a_ring_that_does_not_fit()
    {
        var plan = RingPlanner.Plan(new PlanRequest(ProfileCatalog.Get("tpu-v5e"), Devices: 2, SeqLen: 8_000_000, Heads: 64, KvHeads: 8, HeadDim: 128,
            RecordTimeline: false));
        Assert.False(plan.Fits);
        Assert.All(plan.Timeline.Devices, d => Assert.Empty(d.Intervals));
    }

    [Fact]
    public void Causal_zigzag_must_be_balanced_and_faster_than_contiguous_on_4_devices()
    {
        PlanResult Plan(LayoutKind layout) =>
            RingPlanner.Plan(new PlanRequest(FastLink, Devices: 4, SeqLen: 4096, Heads: 1, KvHeads: 1, HeadDim: 64, Layout: layout, Causal: true));
        var contiguous = Plan(LayoutKind.Contiguous);
        var zigzag = Plan(LayoutKind.Zigzag);
        var striped = Plan(LayoutKind.Striped);

        Assert.Equal(contiguous.TotalFlops, zigzag.TotalFlops);
        Assert.Equal(contiguous.TotalFlops, striped.TotalFlops);

        // Contiguous: the last device does 3.5 blocks of work where the mean is 2 (ANCHORS.md §3: about 2×).
        Assert.Equal(1.75, contiguous.Imbalance, 0.01);
        Assert.Equal(1, zigzag.Imbalance, 1e-12);
        Assert.Equal(1, striped.Imbalance, 0.01);

        var zigzagCompute = zigzag.Timeline.Devices.Select(d => d.ComputeSeconds).ToArray();
        Assert.All(zigzagCompute, s => Assert.Equal(zigzagCompute[0], s, zigzagCompute[0] * 1e-12));
        Assert.True(contiguous.PredictedSeconds > 1.5 * zigzag.PredictedSeconds,
            $"contiguous {contiguous.PredictedSeconds} s vs zigzag {zigzag.PredictedSeconds} s");

        // The first device of the contiguous ring skips every later block and then waits for the last device.
        var first = contiguous.Timeline.Devices[0];
        Assert.True(first.IdleSeconds > 0.5 * contiguous.PredictedSeconds);
    }

    [Fact]
    public void Overlap_must_be_full_above_the_minimal_block_size_and_partial_below_it()
    {
        var profile = ProfileCatalog.Get("a100-nvlink") with { LinkLatency = 0 };
        PlanResult Plan(int blockSize) =>
            RingPlanner.Plan(new PlanRequest(profile, Devices: 4, SeqLen: 4 * blockSize, Heads: 1, KvHeads: 1, HeadDim: 128));

        var above = Plan(1100); // c = F/B = 1040
        Assert.Equal(1, above.Overlap, 1e-12);
        Assert.All(above.Timeline.Devices, d => Assert.Equal(0, d.IdleSeconds, 1e-18));

        var below = Plan(500);
        Assert.True(below.Overlap < 1);
        Assert.True(below.Timeline.Devices.All(d => d.IdleSeconds > 0));
    }

    [Fact]
    public void Plan_must_handle_1024_devices_and_a_million_hand_offs()
    {
        var plan = RingPlanner.Plan(new PlanRequest(ProfileCatalog.Get("tpu-v4"), Devices: 1024, SeqLen: 1_048_576, Heads: 32, KvHeads: 8, HeadDim: 128,
            Layout: LayoutKind.Zigzag, Causal: true, RecordTimeline: false));
        Assert.Equal(1024L * 1023, plan.Timeline.HandOffs);
        Assert.Equal(1, plan.Imbalance, 1e-12);

        // 1,024 tokens per device, over twice the minimal block size (a causal zigzag step computes about half a full block):
        // every hand-off hides behind compute, and the overlap is the timeline's hidden share of its hand-off seconds.
        Assert.True(plan.BlockSize > 2 * plan.MinBlockSize, $"block {plan.BlockSize}, minimal {plan.MinBlockSize}");
        Assert.Equal(plan.Timeline.HiddenCommunicationSeconds / plan.Timeline.CommunicationSeconds, plan.Overlap, 1e-12);
        Assert.Equal(1, plan.Overlap, 1e-9);
        Assert.True(plan.PredictedSeconds > 0);
    }

    [Theory]
    [InlineData(0, 1024, 8, 8, 64, "Devices")]
    [InlineData(2048, 1024, 8, 8, 64, "Devices")]
    [InlineData(4, 0, 8, 8, 64, "SeqLen")]
    [InlineData(4, 1024, 6, 4, 64, "Heads")]
    [InlineData(4, 1024, 8, 0, 64, "KvHeads")]
    [InlineData(4, 1024, 8, 8, 0, "HeadDim")]
    public void Plan_must_reject_bad_sizes_naming_the_parameter(int devices, int seqLen, int heads, int kvHeads, int headDim, string parameter)
    {
        var error = Assert.Throws<ArgumentException>(() => RingPlanner.Plan(new PlanRequest(FastLink, devices, seqLen, heads, kvHeads, headDim)));
        Assert.Equal(parameter, error.ParamName);
    }

    [Fact]
    public void ElementTypes_must_parse_the_command_line_names()
    {
        Assert.Equal((ElementType.Bf16, 2), (ElementTypes.Parse("bf16"), ElementType.Bf16.Bytes()));
        Assert.Equal((ElementType.Fp16, 2), (ElementTypes.Parse("FP16"), ElementType.Fp16.Bytes()));
        Assert.Equal((ElementType.Fp32, 4), (ElementTypes.Parse("fp32"), ElementType.Fp32.Bytes()));
        Assert.Contains("bf16, fp16 or fp32", Assert.Throws<ArgumentException>(() => ElementTypes.Parse("int8")).Message, StringComparison.Ordinal);
    }
}
