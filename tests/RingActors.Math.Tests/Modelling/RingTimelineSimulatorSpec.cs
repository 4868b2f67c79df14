using RingActors.Math.Modelling;
using static RingActors.Math.Modelling.IntervalKind;

namespace RingActors.Math.Tests.Modelling;

public class RingTimelineSimulatorSpec
{
    // 1 byte/s and no latency: a block of b bytes takes b seconds, so the tests read in whole seconds.
    private static readonly DeviceProfile OneBytePerSecond = ProfileCatalog.Custom(flops: 1, bandwidth: 1, latencySeconds: 0, memoryBytes: 1 << 30);

    private static TimelineInterval I(IntervalKind kind, double start, double end, int step) => new(kind, start, end, step);

    [Fact]
    public void Ring_of_two_must_idle_while_a_slow_transfer_is_exposed()
    {
        // Compute 1 s, transfer 2 s: each device computes its own block in [0, 1], its neighbour's block travels in
        // [0, 2], so it idles in [1, 2] and computes the second block in [2, 3].
        var timeline = RingTimelineSimulator.Run(OneBytePerSecond, RingWorkload.Uniform(2, computeSeconds: 1, blockBytes: 2));

        TimelineInterval[] expected = [I(Compute, 0, 1, 0), I(Communicate, 0, 2, 1), I(Idle, 1, 2, 1), I(Compute, 2, 3, 1)];
        Assert.All(timeline.Devices, d => Assert.Equal(expected, d.Intervals));
        Assert.Equal(3, timeline.TotalSeconds);
        Assert.Equal(1.5, timeline.PerStepSeconds);
        Assert.Equal(2, timeline.HandOffs);
        Assert.Equal(0.5, timeline.Overlap); // [0, 1] of the 2 s transfer hides behind the first compute
        Assert.All(timeline.Devices, d => Assert.Equal((2.0, 1.0, 2.0, 1.0, 3.0), (d.ComputeSeconds, d.IdleSeconds, d.CommunicationSeconds, d.HiddenCommunicationSeconds, d.FinishedAt)));
    }

    [Fact]
    public void Ring_of_three_must_forward_each_block_as_soon_as_it_arrives()
    {
        // Step 2's block leaves the predecessor at 2 (when it arrived there; the link and the credit are free by then)
        // and arrives at 4: idle [3, 4].
        var timeline = RingTimelineSimulator.Run(OneBytePerSecond, RingWorkload.Uniform(3, computeSeconds: 1, blockBytes: 2));

        TimelineInterval[] expected =
        [
            I(Compute, 0, 1, 0),
            I(Communicate, 0, 2, 1), I(Idle, 1, 2, 1), I(Compute, 2, 3, 1),
            I(Communicate, 2, 4, 2), I(Idle, 3, 4, 2), I(Compute, 4, 5, 2),
        ];
        Assert.All(timeline.Devices, d => Assert.Equal(expected, d.Intervals));
        Assert.Equal(5, timeline.TotalSeconds);
        Assert.Equal(6, timeline.HandOffs);
        Assert.Equal(0.5, timeline.Overlap);
    }

    [Fact]
    public void Transfer_shorter_than_compute_must_be_fully_hidden()
    {
        var timeline = RingTimelineSimulator.Run(OneBytePerSecond, RingWorkload.Uniform(4, computeSeconds: 2, blockBytes: 1));

        TimelineInterval[] expected =
        [
            I(Compute, 0, 2, 0),
            I(Communicate, 0, 1, 1), I(Compute, 2, 4, 1),
            I(Communicate, 2, 3, 2), I(Compute, 4, 6, 2),
            I(Communicate, 4, 5, 3), I(Compute, 6, 8, 3),
        ];
        Assert.All(timeline.Devices, d => Assert.Equal(expected, d.Intervals));
        Assert.Equal(8, timeline.TotalSeconds);
        Assert.Equal(1, timeline.Overlap);
        Assert.All(timeline.Devices, d => Assert.Equal(0, d.IdleSeconds));
    }

    [Fact]
    public void Hand_off_must_arrive_after_bytes_over_bandwidth_plus_latency()
    {
        var profile = OneBytePerSecond with { LinkLatency = 0.5 };
        var timeline = RingTimelineSimulator.Run(profile, RingWorkload.Uniform(2, computeSeconds: 1, blockBytes: 2));

        TimelineInterval[] expected = [I(Compute, 0, 1, 0), I(Communicate, 0, 2.5, 1), I(Idle, 1, 2.5, 1), I(Compute, 2.5, 3.5, 1)];
        Assert.Equal(expected, timeline.Devices[0].Intervals);
    }

    [Fact]
    public void Slow_device_must_hold_back_its_predecessor_through_credits()
    {
        // Device 1 computes its first block for 10 s. It holds at most two blocks, so device 0 may send it the block of
        // step 2 only once device 1 has released its own block at 10; without credits the send would start at 0.5.
        var compute = new double[9];
        Array.Fill(compute, 1);
        compute[(1 * 3) + 0] = 10;
        var timeline = RingTimelineSimulator.Run(OneBytePerSecond with { LinkBandwidth = 2 }, new RingWorkload(3, compute, [1, 1, 1]));

        TimelineInterval[] slow =
        [
            I(Compute, 0, 10, 0),
            I(Communicate, 0, 0.5, 1), I(Compute, 10, 11, 1),
            I(Communicate, 10, 10.5, 2), I(Compute, 11, 12, 2),
        ];
        Assert.Equal(slow, timeline.Devices[1].Intervals);
        Assert.Equal(12, timeline.TotalSeconds);
        Assert.Equal(I(Idle, 3, 12, 3), timeline.Devices[0].Intervals[^1]); // done at 3, waits for the ring
    }

    [Fact]
    public void Skipped_blocks_must_cost_no_compute_but_still_travel()
    {
        var compute = new double[4]; // device 0 skips the block of device 1 (step 1), as the causal mask makes it
        compute[0] = 1;
        compute[2] = 1;
        compute[3] = 1;
        var timeline = RingTimelineSimulator.Run(OneBytePerSecond, new RingWorkload(2, compute, [3, 3]));

        Assert.Equal([I(Compute, 0, 1, 0), I(Communicate, 0, 3, 1), I(Idle, 1, 3, 1), I(Idle, 3, 4, 2)], timeline.Devices[0].Intervals);
        Assert.Equal([I(Compute, 0, 1, 0), I(Communicate, 0, 3, 1), I(Idle, 1, 3, 1), I(Compute, 3, 4, 1)], timeline.Devices[1].Intervals);
    }

    [Fact]
    public void One_device_must_need_no_hand_off()
    {
        var timeline = RingTimelineSimulator.Run(OneBytePerSecond, RingWorkload.Uniform(1, computeSeconds: 4, blockBytes: 9));
        Assert.Equal([I(Compute, 0, 4, 0)], timeline.Devices[0].Intervals);
        Assert.Equal((4.0, 0L, 1.0), (timeline.TotalSeconds, timeline.HandOffs, timeline.Overlap));
    }

    [Fact]
    public void Workload_must_reject_inconsistent_sizes()
    {
        Assert.Equal("computeSeconds", Assert.Throws<ArgumentException>(() => new RingWorkload(2, new double[3], new long[2])).ParamName);
        Assert.Equal("blockBytes", Assert.Throws<ArgumentException>(() => new RingWorkload(2, new double[4], new long[3])).ParamName);
        Assert.Equal("computeSeconds", Assert.Throws<ArgumentException>(() => new RingWorkload(1, [double.NaN], [0])).ParamName);
        Assert.Equal("computeSeconds", Assert.Throws<ArgumentException>(() => new RingWorkload(1, [-1], [0])).ParamName);
        Assert.Equal("devices", Assert.Throws<ArgumentException>(() => RingWorkload.Uniform(0, 1, 1)).ParamName);
    }

    [Fact]
    public void Timeline_must_be_identical_for_the_same_inputs_also_on_concurrent_threads()
    {
        var request = new PlanRequest(ProfileCatalog.Get("a100-infiniband"), Devices: 16, SeqLen: 65_537, Heads: 8, KvHeads: 2, HeadDim: 64,
            Layout: LayoutKind.Zigzag, Causal: true);
        var reference = RingPlanner.Plan(request).Timeline;

        var results = new RingTimeline[8];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => results[i] = RingPlanner.Plan(request).Timeline);

        foreach (var timeline in results.Prepend(RingPlanner.Plan(request).Timeline))
        {
            Assert.Equal(reference.TotalSeconds, timeline.TotalSeconds);
            Assert.Equal(reference.Overlap, timeline.Overlap);
            for (var d = 0; d < reference.Devices.Count; d++)
            {
                Assert.Equal(reference.Devices[d].Intervals, timeline.Devices[d].Intervals);
                Assert.Equal(Totals(reference.Devices[d]), Totals(timeline.Devices[d]));
            }
        }
    }

    private static (double, double, double, double, double, int) Totals(DeviceTimeline d) =>
        (d.ComputeSeconds, d.IdleSeconds, d.CommunicationSeconds, d.HiddenCommunicationSeconds, d.FinishedAt, d.HandOffsReceived);

    [Fact]
    public void Intervals_must_tile_each_device_lane_without_gaps()
    {
        var plan = RingPlanner.Plan(new PlanRequest(ProfileCatalog.Get("tpu-v4"), Devices: 8, SeqLen: 20_003, Heads: 4, KvHeads: 4, HeadDim: 128,
            Layout: LayoutKind.Contiguous, Causal: true));
        foreach (var device in plan.Timeline.Devices)
        {
            // Compute and idle intervals cover [0, total] exactly once; hand-offs lie in a lane of their own.
            var lane = device.Intervals.Where(i => i.Kind != Communicate).ToArray();
            Assert.Equal(0, lane[0].Start);
            for (var i = 1; i < lane.Length; i++)
            {
                Assert.Equal(lane[i - 1].End, lane[i].Start);
            }

            Assert.Equal(plan.Timeline.TotalSeconds, lane[^1].End);
            Assert.Equal(plan.Timeline.TotalSeconds, device.ComputeSeconds + device.IdleSeconds, 1e-12);
            Assert.Equal(7, device.Intervals.Count(i => i.Kind == Communicate));
        }
    }
}
