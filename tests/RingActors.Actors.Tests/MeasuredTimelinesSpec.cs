using System.Diagnostics;
using RingActors.Actors.Devices;
using RingActors.Math.Modelling;

namespace RingActors.Actors.Tests;

public sealed class MeasuredTimelinesSpec
{
    private const double Skew = 1000; // device 1's clock runs 1000 s ahead of the supervisor's

    [Fact]
    public void MeasuredTimelines_must_keep_timelines_of_this_process_to_the_last_bit()
    {
        var timelines = new MeasuredTimelines();
        var devices = new[] { Device(0, 0, 10.001, 10.003), Device(1, 0, 10.002, 10.004) };
        timelines.Ordered(0, 0, T(10), sameClock: true);
        timelines.Ordered(1, 0, T(10), sameClock: true);
        timelines.Began(1, 0, T(10.0005), T(10.001)); // a device of this process needs no estimate

        var assembled = timelines.Assemble([(0, devices[0]), (0, devices[1])], T(10), withLost: true);

        Assert.Equal(RingTimelines.Assemble(devices, MeasuredDeviceClock.Seconds(T(10))), assembled, new TimelineComparer());
        Assert.All(timelines.Alignments, a => Assert.Equal((true, 0.0), (a.SameClock, a.OffsetSeconds!.Value)));
    }

    [Fact]
    public void MeasuredTimelines_must_put_a_remote_clock_on_the_supervisors_at_the_midpoint_of_its_start_round_trip()
    {
        var timelines = new MeasuredTimelines();
        timelines.Ordered(0, 0, T(10), sameClock: true);
        timelines.Ordered(1, 0, T(10), sameClock: false);

        // Ordered at 10 s, heard at 10.004 s: the device's start (its clock: 1010.002 s) is placed at 10.002 s, within ± 2 ms.
        timelines.Began(1, 0, T(Skew + 10.002), T(10.004));
        timelines.Began(1, 0, T(Skew + 10.5), T(11)); // a repeat's answer tells nothing new
        var alignment = Assert.Single(timelines.Alignments, a => a.Device == 1);
        Assert.False(alignment.SameClock);
        Assert.Equal(Skew, alignment.OffsetSeconds!.Value, 1e-6);
        Assert.Equal(0.002, alignment.UncertaintySeconds, 1e-6);
        Assert.Equal(T(10.5), timelines.ToSupervisor(1, 0, T(Skew + 10.5)), (double)Stopwatch.Frequency * 1e-6);

        // Device 1's hand-off left device 0 (our clock) at 10.001 s and arrived at 1010.0025 s on device 1's.
        var device1 = MeasuredDeviceClock.Summarise(1, [
            new TimelineInterval(IntervalKind.Communicate, S(10.001), S(Skew + 10.0025), 1),
            new TimelineInterval(IntervalKind.Compute, S(Skew + 10.003), S(Skew + 10.005), 1),
        ], S(Skew + 10.005), 1);
        var ring = timelines.Assemble([(0, Device(0, 0, 10.001, 10.003)), (0, device1)], T(10), withLost: true);

        var intervals = ring.Devices[1].Intervals;
        Assert.Equal(0.001, intervals[0].Start, 1e-6);
        Assert.Equal(0.0025, intervals[0].End, 1e-6);
        Assert.Equal(0.003, intervals[1].Start, 1e-6);
        Assert.Equal(0.005, ring.TotalSeconds, 1e-6);
        Assert.Equal(0.0015, ring.Devices[1].CommunicationSeconds, 1e-6); // the totals are the aligned intervals'
    }

    [Fact]
    public void MeasuredTimelines_must_draw_a_lost_incarnations_work_before_its_successors_on_the_same_track()
    {
        var timelines = new MeasuredTimelines();
        timelines.Ordered(0, 0, T(10), sameClock: true);
        timelines.Ordered(1, 0, T(10), sameClock: true);
        timelines.Lost(1, 0, Device(1, 0, 10.001, 10.002));
        timelines.Ordered(1, 1, T(10.003), sameClock: true);
        var successor = Device(1, 0, 10.004, 10.006);

        var ring = timelines.Assemble([(0, Device(0, 0, 10.001, 10.003)), (1, successor)], T(10), withLost: true);
        var track = ring.Devices[1];
        Assert.Equal([0.001, 0.004], track.Intervals.Where(i => i.Kind == IntervalKind.Compute).Select(i => System.Math.Round(i.Start, 6)));
        Assert.Equal(0.003, track.ComputeSeconds, 1e-6);
        Assert.Equal(0.006, ring.TotalSeconds, 1e-6);

        // The backward's timeline has no lost forward work on it.
        var backward = timelines.Assemble([(0, Device(0, 0, 10.001, 10.003)), (1, successor)], T(10), withLost: false);
        Assert.Single(backward.Devices[1].Intervals, i => i.Kind == IntervalKind.Compute);
    }

    private static long T(double seconds) => (long)System.Math.Round(seconds * Stopwatch.Frequency);

    private static double S(double seconds) => MeasuredDeviceClock.Seconds(T(seconds));

    private static DeviceTimeline Device(int device, int step, double start, double end) =>
        MeasuredDeviceClock.Summarise(device, [new TimelineInterval(IntervalKind.Compute, S(start), S(end), step)], S(end), 0);

    private sealed class TimelineComparer : IEqualityComparer<RingTimeline>
    {
        public bool Equals(RingTimeline? x, RingTimeline? y) =>
            x!.TotalSeconds == y!.TotalSeconds && x.Devices.Zip(y.Devices).All(p => p.First.Intervals.SequenceEqual(p.Second.Intervals));

        public int GetHashCode(RingTimeline obj) => 0;
    }
}
