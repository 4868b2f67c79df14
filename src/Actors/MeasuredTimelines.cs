using System.Diagnostics;
using RingActors.Actors.Devices;
using RingActors.Math.Modelling;

namespace RingActors.Actors;

/// <summary>
/// How one incarnation of a device's clock was put on the supervisor's: <see cref="SameClock"/> for a device of the
/// supervisor's process (offset 0 exactly); else <see cref="OffsetSeconds"/> (its clock minus ours), known within
/// ± <see cref="UncertaintySeconds"/>, or null when its start was never acknowledged (its times are then taken as ours).
/// </summary>
public sealed record DeviceClockAlignment(int Device, int Epoch, bool SameClock, double? OffsetSeconds, double UncertaintySeconds);

/// <summary>
/// A job's measured device timelines on the supervisor's clock, incarnation by incarnation (plain class, owned by the supervisor).
/// Each device records on its own node's <see cref="Stopwatch"/>, whose origin differs from machine to machine. An incarnation's
/// offset is estimated from the round trip of its start (Cristian's method): we sent the order to start (StartRing, or a
/// re-created device's setup) at o, the device began at b on its clock and said so (SetupTaken), we heard it at a; b happened
/// between o and a on our clock, so it is placed at their midpoint, within ±(a − o)/2. A drift of the clocks during one job is
/// neglected. A hand-off's interval starts on its sender's clock (the block's ReadySince) and ends on the receiver's: each end
/// is shifted by its own clock's offset. An incarnation lost before its result leaves what it recorded up to its loss, which
/// is put on the same device's track before its successor's.
/// </summary>
public sealed class MeasuredTimelines
{
    private readonly Dictionary<(int Device, int Epoch), Incarnation> _incarnations = [];

    /// <summary>Every incarnation's alignment, by device then epoch.</summary>
    public IReadOnlyList<DeviceClockAlignment> Alignments =>
    [
        .. _incarnations.OrderBy(i => i.Key.Device).ThenBy(i => i.Key.Epoch).Select(i => new DeviceClockAlignment(
            i.Key.Device, i.Key.Epoch, i.Value.SameClock, i.Value.SameClock ? 0 : i.Value.Offset is { } o ? Seconds(o) : null, Seconds(i.Value.Uncertainty))),
    ];

    /// <summary>We sent incarnation <paramref name="epoch"/> of <paramref name="device"/> its first order to start at <paramref name="at"/> (our Stopwatch).</summary>
    public void Ordered(int device, int epoch, long at, bool sameClock)
    {
        if (!_incarnations.ContainsKey((device, epoch)))
        {
            _incarnations[(device, epoch)] = new Incarnation(at, sameClock);
        }
    }

    /// <summary>
    /// The incarnation said it began at <paramref name="deviceStartedAt"/> (its Stopwatch), heard at <paramref name="heardAt"/>
    /// (ours). Only the first acknowledgement counts: a repeat answers a later order but tells of the same start, so the first
    /// order and the first answer are the tightest pair known to bracket it.
    /// </summary>
    public void Began(int device, int epoch, long deviceStartedAt, long heardAt)
    {
        if (deviceStartedAt == 0 || !_incarnations.TryGetValue((device, epoch), out var incarnation) || incarnation.SameClock || incarnation.Offset is not null)
        {
            return;
        }

        var trip = System.Math.Max(0, heardAt - incarnation.OrderedAt);
        incarnation.Offset = deviceStartedAt - (incarnation.OrderedAt + (trip / 2));
        incarnation.Uncertainty = (trip + 1) / 2;
    }

    /// <summary>A timestamp of the incarnation's clock on ours (unchanged when its offset is unknown).</summary>
    public long ToSupervisor(int device, int epoch, long deviceTimestamp) =>
        deviceTimestamp == 0 ? 0 : deviceTimestamp - OffsetOf(device, epoch);

    /// <summary>What the incarnation recorded up to its loss (its own clock); drawn before its successor's on the device's track.</summary>
    public void Lost(int device, int epoch, DeviceTimeline partial)
    {
        ArgumentNullException.ThrowIfNull(partial);
        if (_incarnations.TryGetValue((device, epoch), out var incarnation))
        {
            incarnation.Lost = partial;
        }
    }

    /// <summary>
    /// The ring's timeline of one pass on our clock, seconds from <paramref name="origin"/> (our Stopwatch): each device's result
    /// (<paramref name="results"/>[r], recorded by incarnation Epoch), <paramref name="withLost"/> after what its lost
    /// incarnations recorded (of the forward: a kill reports the pass it interrupts only then).
    /// </summary>
    public RingTimeline Assemble(IReadOnlyList<(int Epoch, DeviceTimeline Timeline)> results, long origin, bool withLost)
    {
        ArgumentNullException.ThrowIfNull(results);
        var p = results.Count;
        var devices = new DeviceTimeline[p];
        for (var r = 0; r < p; r++)
        {
            var (epoch, timeline) = results[r];
            var pieces = _incarnations.Where(i => i.Key.Device == r && withLost && i.Key.Epoch < epoch && i.Value.Lost is not null)
                .OrderBy(i => i.Key.Epoch).Select(i => Align(i.Value.Lost!, i.Key.Epoch, p)).Append(Align(timeline, epoch, p)).ToList();
            devices[r] = pieces.Count == 1 ? pieces[0] : MeasuredDeviceClock.Summarise(
                r, [.. pieces.SelectMany(t => t.Intervals)], pieces[^1].FinishedAt, pieces.Sum(t => t.HandOffsReceived));
        }

        return RingTimelines.Assemble(devices, Seconds(origin));
    }

    private DeviceTimeline Align(DeviceTimeline timeline, int epoch, int p)
    {
        var device = timeline.Device;
        var own = Seconds(OffsetOf(device, epoch));
        var predecessor = (device + p - 1) % p;
        if (own == 0 && _incarnations.Where(i => i.Key.Device == predecessor).All(i => OffsetOf(i.Key.Device, i.Key.Epoch) == 0))
        {
            return timeline; // every clock involved is ours: the timeline is kept to the last bit
        }

        var intervals = timeline.Intervals.Select(i =>
        {
            var end = i.End - own;
            var start = i.Kind == IntervalKind.Communicate ? i.Start - Seconds(SenderOffset(predecessor, end)) : i.Start - own;
            return i with { Start = System.Math.Min(start, end), End = end };
        }).ToList();
        return MeasuredDeviceClock.Summarise(device, intervals, timeline.FinishedAt - own, timeline.HandOffsReceived);
    }

    /// <summary>The offset of the sender's incarnation that ran when a hand-off arrived (<paramref name="arrivedAt"/>, our seconds): the last one ordered before.</summary>
    private long SenderOffset(int sender, double arrivedAt)
    {
        var ran = _incarnations.Where(i => i.Key.Device == sender && Seconds(i.Value.OrderedAt) <= arrivedAt).MaxBy(i => i.Value.OrderedAt);
        return ran.Value is null ? OffsetOf(sender, 0) : OffsetOf(sender, ran.Key.Epoch);
    }

    private long OffsetOf(int device, int epoch) =>
        _incarnations.TryGetValue((device, epoch), out var incarnation) && !incarnation.SameClock ? incarnation.Offset ?? 0 : 0;

    private static double Seconds(long ticks) => MeasuredDeviceClock.Seconds(ticks);

    private sealed class Incarnation(long orderedAt, bool sameClock)
    {
        public long OrderedAt { get; } = orderedAt;

        public bool SameClock { get; } = sameClock;

        public long? Offset { get; set; }

        public long Uncertainty { get; set; }

        public DeviceTimeline? Lost { get; set; }
    }
}
