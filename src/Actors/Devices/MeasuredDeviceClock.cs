using System.Diagnostics;
using RingActors.Math.Modelling;

namespace RingActors.Actors.Devices;

/// <summary>
/// One device's wall-clock timeline, from <see cref="Stopwatch"/> timestamps of the real run: each step's hand-off (from the
/// moment the sender had the block and wanted to send it to its acceptance here), the wait before its compute (idle; the
/// compute dispatcher's queue included) and the kernel's run. Times are seconds on the machine's Stopwatch, so timelines
/// of devices of one machine can be laid side by side (<see cref="RingTimelines.Assemble"/> shifts them to the ring's start).
/// </summary>
public sealed class MeasuredDeviceClock
{
    private readonly List<TimelineInterval> _intervals = [];
    private readonly List<TimelineInterval> _communications = [];
    private double _freeAt;
    private int _received;

    public MeasuredDeviceClock(int device) => Device = device;

    public int Device { get; }

    /// <summary>Seconds of a Stopwatch timestamp.</summary>
    public static double Seconds(long timestamp) => (double)timestamp / Stopwatch.Frequency;

    /// <summary>The ring started on this device at <paramref name="now"/>.</summary>
    public void Started(long now) => _freeAt = Seconds(now);

    /// <summary>The block of <paramref name="step"/> was ready at its sender at <paramref name="readySince"/> and accepted here at <paramref name="acceptedAt"/>.</summary>
    public void Received(int step, long readySince, long acceptedAt)
    {
        _received++;
        var start = Seconds(readySince);
        var end = Seconds(acceptedAt);
        if (end > start)
        {
            _communications.Add(new TimelineInterval(IntervalKind.Communicate, start, end, step));
        }
    }

    /// <summary>The kernel of <paramref name="step"/> ran from <paramref name="startedAt"/> to <paramref name="finishedAt"/>.</summary>
    public void Computed(int step, long startedAt, long finishedAt)
    {
        var start = System.Math.Max(_freeAt, Seconds(startedAt));
        var end = System.Math.Max(start, Seconds(finishedAt));
        if (start > _freeAt)
        {
            _intervals.Add(new TimelineInterval(IntervalKind.Idle, _freeAt, start, step));
        }

        var compute = new TimelineInterval(IntervalKind.Compute, start, end, step);
        if (end > start)
        {
            _intervals.Add(compute);
        }

        _freeAt = end;
    }

    /// <summary>The timeline so far, without the idle wait after the last step; hidden hand-off time is the part spent computing.</summary>
    public DeviceTimeline Timeline()
    {
        // Grouped by step like the simulator's: the hand-off of a step, then its wait and its compute.
        var intervals = _intervals.Concat(_communications)
            .OrderBy(i => i.Step).ThenBy(i => i.Kind == IntervalKind.Communicate ? 0 : 1).ThenBy(i => i.Start).ToList();
        return Summarise(Device, intervals, _freeAt, _received);
    }

    /// <summary>
    /// A device timeline of <paramref name="intervals"/> (kept in their order) with its totals: compute and idle seconds, hand-off
    /// seconds and the part of them that overlaps a compute of the device (hidden). The one place these totals are computed,
    /// for a device's own record and for one rebuilt on the supervisor's clock or joined over incarnations (<see cref="MeasuredTimelines"/>).
    /// </summary>
    public static DeviceTimeline Summarise(int device, IReadOnlyList<TimelineInterval> intervals, double finishedAt, int handOffsReceived)
    {
        ArgumentNullException.ThrowIfNull(intervals);
        double compute = 0, idle = 0, communication = 0, hidden = 0;
        foreach (var interval in intervals)
        {
            switch (interval.Kind)
            {
                case IntervalKind.Compute:
                    compute += interval.Duration;
                    break;
                case IntervalKind.Idle:
                    idle += interval.Duration;
                    break;
                case IntervalKind.Communicate:
                    communication += interval.Duration;
                    foreach (var busy in intervals)
                    {
                        if (busy.Kind == IntervalKind.Compute)
                        {
                            hidden += System.Math.Max(0, System.Math.Min(interval.End, busy.End) - System.Math.Max(interval.Start, busy.Start));
                        }
                    }

                    break;
            }
        }

        return new DeviceTimeline(device, intervals, compute, idle, communication, hidden, finishedAt, handOffsReceived);
    }
}
