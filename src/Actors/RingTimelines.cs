using RingActors.Actors.Protocol;
using RingActors.Math.Modelling;

namespace RingActors.Actors;

/// <summary>Puts the devices' own timelines together into the ring's, as <see cref="RingTimelineSimulator"/> ends its run.</summary>
public static class RingTimelines
{
    /// <summary>
    /// The ring's timeline from each device's (ordered by device, without the idle wait after its last step), shifted so that
    /// <paramref name="origin"/> is time 0: the ring ends when the last device does, every device that finished earlier waits
    /// idle until then, and the overlap is the share of hand-off time hidden behind the receivers' compute. With origin 0 the
    /// arithmetic is the simulator's own, to the last bit.
    /// </summary>
    public static RingTimeline Assemble(IReadOnlyList<DeviceTimeline> devices, double origin = 0)
    {
        ArgumentNullException.ThrowIfNull(devices);
        if (devices.Count == 0)
        {
            throw new ArgumentException("a ring timeline needs at least one device", nameof(devices));
        }

        var p = devices.Count;
        var shifted = origin == 0 ? devices : [.. devices.Select(d => Shift(d, origin))];
        double total = 0;
        foreach (var device in shifted)
        {
            total = System.Math.Max(total, device.FinishedAt);
        }

        var result = new DeviceTimeline[p];
        double computeSum = 0, communicationSum = 0, hiddenSum = 0;
        long handOffs = 0;
        for (var r = 0; r < p; r++)
        {
            var device = shifted[r];
            var intervals = device.Intervals.ToList();
            if (total > device.FinishedAt)
            {
                intervals.Add(new TimelineInterval(IntervalKind.Idle, device.FinishedAt, total, p));
            }

            result[r] = device with { Intervals = intervals, IdleSeconds = device.IdleSeconds + (total - device.FinishedAt) };
            computeSum += device.ComputeSeconds;
            communicationSum += device.CommunicationSeconds;
            hiddenSum += device.HiddenCommunicationSeconds;
            handOffs += device.HandOffsReceived;
        }

        var overlap = communicationSum > 0 ? hiddenSum / communicationSum : 1;
        return new RingTimeline(result, total, total / p, overlap, handOffs, computeSum, communicationSum, hiddenSum);
    }

    /// <summary>The virtual timeline of a finished job's devices, or null when the job did not run in virtual time.</summary>
    internal static RingTimeline? Virtual(IReadOnlyList<RingProtocol.ChunkCompleted?> results, VirtualTimeSettings? time) =>
        time is null || results.Any(r => r?.VirtualTimeline is null) ? null : Assemble([.. results.Select(r => r!.VirtualTimeline!)]);

    private static DeviceTimeline Shift(DeviceTimeline device, double origin) => device with
    {
        Intervals = [.. device.Intervals.Select(i => i with { Start = i.Start - origin, End = i.End - origin })],
        FinishedAt = device.FinishedAt - origin,
    };
}
