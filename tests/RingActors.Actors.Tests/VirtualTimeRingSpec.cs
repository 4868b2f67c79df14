using RingActors.Actors.Configuration;
using RingActors.Actors.Devices;
using RingActors.Actors.Protocol;
using RingActors.Math;
using RingActors.Math.Modelling;
using Xunit.Abstractions;

namespace RingActors.Actors.Tests;

public class VirtualTimeRingSpec(ITestOutputHelper output) : RingTestKit(output)
{
    // Hand-computable: 4 FLOP/s, so a pair (4·d FLOPs with d = 1) computes for 1 s; fp32 blocks of one token (8 bytes) at 4 B/s travel 2 s.
    private static readonly DeviceProfile Slow = new("slow", 4, 1, 1 << 20, 4, 0, "hand-computed example");

    // Transfers of a few femtoseconds: the ring is compute-bound.
    private static readonly DeviceProfile FastLink = new("fast-link", 4, 1, 1 << 20, 1e15, 0, "hand-computed example");

    // Hand-offs comparable to the compute, with latency, so credits and waits shape the timeline.
    private static readonly DeviceProfile Mixed = new("mixed", 2e6, 0.5, 1 << 30, 3e5, 1e-3, "test profile");

    [Fact]
    public async Task VirtualTime_must_show_idle_exactly_where_a_slow_hand_off_keeps_two_devices_waiting()
    {
        var settings = new RingJobSettings(2, LayoutKind.Contiguous) { VirtualTime = new VirtualTimeSettings(Slow) };

        var result = await RingRunner.RunAsync(Sys, AttentionInput.Phantom(new AttentionShape(1, 1, 1, 2, 1)), settings);

        // Each device: computes its own block 0–1 s, its block goes on at 0 and the neighbour's arrives at 2 s: idle 1–2 s, compute 2–3 s.
        var timeline = result.VirtualTimeline!;
        Assert.Equal(3, timeline.TotalSeconds);
        Assert.Equal(0.5, timeline.Overlap); // of each 2 s hand-off, 1 s is hidden behind the own block's compute
        Assert.All(timeline.Devices, d => Assert.Equal(
            [
                new TimelineInterval(IntervalKind.Compute, 0, 1, 0),
                new TimelineInterval(IntervalKind.Communicate, 0, 2, 1),
                new TimelineInterval(IntervalKind.Idle, 1, 2, 1),
                new TimelineInterval(IntervalKind.Compute, 2, 3, 1),
            ],
            d.Intervals));
        Assert.Empty(result.Output);
    }

    [Fact]
    public async Task VirtualTime_must_finish_a_causal_zigzag_ring_sooner_than_a_contiguous_one()
    {
        // N = 8 over 4 devices, d = 1: 36 causal pairs of 1 s each. Contiguous: device 3 computes 3 + 4 + 4 + 4 = 15 pairs,
        // device 0 only 3. Zigzag (one-token chunks r and 7 − r): every device computes (r + 1) + (8 − r) = 9 pairs.
        var shape = new AttentionShape(1, 1, 1, 8, 1);
        var contiguous = await Run(shape, LayoutKind.Contiguous);
        var zigzag = await Run(shape, LayoutKind.Zigzag);

        Assert.Equal([3.0, 7.0, 11.0, 15.0], contiguous.Devices.Select(d => d.ComputeSeconds));
        Assert.Equal(15, contiguous.TotalSeconds, 1e-9); // the last device never waits: the ring lasts its compute
        Assert.Equal(12, contiguous.Devices[0].IdleSeconds, 1e-9);
        Assert.All(zigzag.Devices, d => Assert.Equal(9, d.ComputeSeconds));
        Assert.Equal(9, zigzag.TotalSeconds, 1e-9);

        async Task<RingTimeline> Run(AttentionShape s, LayoutKind layout) =>
            (await RingRunner.RunAsync(Sys, AttentionInput.Phantom(s), new RingJobSettings(4, layout, Causal: true) { VirtualTime = new VirtualTimeSettings(FastLink) })).VirtualTimeline!;
    }

    public static TheoryData<int, LayoutKind, bool> Rings() => new()
    {
        { 2, LayoutKind.Contiguous, true },
        { 2, LayoutKind.Zigzag, true },
        { 4, LayoutKind.Contiguous, true },
        { 4, LayoutKind.Zigzag, true },
        { 4, LayoutKind.Striped, false },
    };

    [Theory]
    [MemberData(nameof(Rings))]
    public async Task VirtualTime_must_give_the_timeline_of_the_simulator_to_the_last_bit(int devices, LayoutKind layout, bool causal)
    {
        var shape = new AttentionShape(1, 4, 2, 64, 8);
        var time = new VirtualTimeSettings(Mixed, ElementType.Bf16);
        var settings = new RingJobSettings(devices, layout, causal) { VirtualTime = time };

        var actors = (await RingRunner.RunAsync(Sys, AttentionInput.Phantom(shape), settings)).VirtualTimeline!;

        var simulated = RingTimelineSimulator.Run(Mixed, Workload(shape, settings, time));
        AssertSame(simulated, actors);
        if (layout != LayoutKind.Striped)
        {
            // 2P divides N: the planner's own layout and pair counts give the same ring.
            var plan = RingPlanner.Plan(new PlanRequest(Mixed, devices, shape.SeqLen, shape.Heads, shape.KvHeads, shape.HeadDim, ElementType.Bf16,
                layout == LayoutKind.Zigzag ? LayoutKind.Zigzag : LayoutKind.Contiguous, causal));
            AssertSame(plan.Timeline, actors);
        }
    }

    [Fact]
    public async Task VirtualTime_must_time_a_real_run_as_its_phantom_and_still_equal_the_oracle()
    {
        var shape = new AttentionShape(1, 2, 1, 61, 8);
        var input = AttentionInput.Random(shape, seed: 61);
        var settings = new RingJobSettings(3, LayoutKind.Zigzag, Causal: true) { VirtualTime = new VirtualTimeSettings(Mixed) };

        var real = await RingRunner.RunAsync(Sys, input, settings);
        var phantom = await RingRunner.RunAsync(Sys, AttentionInput.Phantom(shape), settings);

        var (expected, _) = ReferenceAttention.Compute(input, settings.OptionsFor(1));
        Assert.True(ErrorMetrics.Compare(real.Output, expected).RelativeError < 1e-5);
        AssertSame(phantom.VirtualTimeline!, real.VirtualTimeline!);
        Assert.NotNull(real.MeasuredTimeline);
        Assert.All(real.MeasuredTimeline.Devices, d => Assert.Equal(3, d.Intervals.Count(i => i.Kind == IntervalKind.Compute)));
    }

    [Fact]
    public async Task VirtualTime_must_not_depend_on_the_load_of_the_host()
    {
        var shape = new AttentionShape(1, 2, 1, 96, 8);
        var input = AttentionInput.Random(shape, seed: 96);
        var settings = new RingJobSettings(4, LayoutKind.Contiguous, Causal: true) { VirtualTime = new VirtualTimeSettings(Mixed) };
        var quiet = (await RingRunner.RunAsync(Sys, input, settings)).VirtualTimeline!;

        // Busy threads that compete with the compute dispatcher and the actors for the two cores while the same job runs again.
        using var stop = new CancellationTokenSource();
        var spinners = Enumerable.Range(0, 3).Select(_ => Task.Factory.StartNew(
            () =>
            {
                var x = 0.0;
                while (!stop.IsCancellationRequested)
                {
                    x = System.Math.Sqrt(x + 1);
                }

                return x;
            },
            TaskCreationOptions.LongRunning)).ToArray();
        RingTimeline loaded;
        try
        {
            loaded = (await RingRunner.RunAsync(Sys, input, settings)).VirtualTimeline!;
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(spinners);
        }

        AssertSame(quiet, loaded);
    }

    [Fact]
    public void VirtualTime_must_be_required_by_a_phantom_input()
    {
        var error = Assert.Throws<ArgumentException>(() => RingJob.Create(
            AttentionInput.Phantom(new AttentionShape(1, 1, 1, 8, 4)), new RingJobSettings(2), RingActorsSettings.Create(Sys)));
        Assert.Contains("virtual time", error.Message);
    }

    /// <summary>The workload of the job from the actors' own layout and exact pair counts.</summary>
    private static RingWorkload Workload(AttentionShape shape, RingJobSettings settings, VirtualTimeSettings time)
    {
        var p = settings.Devices;
        var layout = new SequenceLayout(settings.Layout, shape.SeqLen, p);
        var heads = AttentionHeads.Of(shape);
        var options = settings.OptionsFor(1);
        var compute = new double[p * p];
        var bytes = new long[p];
        for (var r = 0; r < p; r++)
        {
            bytes[r] = time.BlockBytes(layout.Count(r), heads);
            for (var step = 0; step < p; step++)
            {
                var origin = (((r - step) % p) + p) % p;
                compute[(r * p) + step] = StepTiming.ComputeSeconds(PairCounting.Flops(options, heads, layout.Positions(r), layout.Positions(origin)), time.Profile);
            }
        }

        return new RingWorkload(p, compute, bytes);
    }

    private static void AssertSame(RingTimeline expected, RingTimeline actual)
    {
        Assert.Equal(expected.TotalSeconds, actual.TotalSeconds);
        Assert.Equal(expected.Overlap, actual.Overlap);
        Assert.Equal(expected.HandOffs, actual.HandOffs);
        Assert.Equal(expected.ComputeSeconds, actual.ComputeSeconds);
        Assert.Equal(expected.CommunicationSeconds, actual.CommunicationSeconds);
        Assert.Equal(expected.HiddenCommunicationSeconds, actual.HiddenCommunicationSeconds);
        Assert.Equal(expected.Devices.Count, actual.Devices.Count);
        for (var r = 0; r < expected.Devices.Count; r++)
        {
            var (e, a) = (expected.Devices[r], actual.Devices[r]);
            Assert.Equal(e.Intervals, a.Intervals);
            Assert.Equal(
                (e.Device, e.ComputeSeconds, e.IdleSeconds, e.CommunicationSeconds, e.HiddenCommunicationSeconds, e.FinishedAt, e.HandOffsReceived),
                (a.Device, a.ComputeSeconds, a.IdleSeconds, a.CommunicationSeconds, a.HiddenCommunicationSeconds, a.FinishedAt, a.HandOffsReceived));
        }
    }
}
