using System.Globalization;
using System.Text.RegularExpressions;
using RingActors.Actors.Faults;
using RingActors.Host.Plots;
using RingActors.Math.Modelling;

namespace RingActors.Host.Reporting;

/// <summary>
/// The faults of a trial as marks on its timeline: each fault that struck, at its first injection (seconds since the ring
/// started), on the device its spec names (<c>kill-device:1@…</c>, <c>slow-device:2*…</c>, <c>drop:p@3</c>); a fault
/// without a device (a drop on every link) gets <see cref="AnyDevice"/>, drawn across the whole trace. A slow device is in
/// effect from its first compute to its last (every compute of every incarnation is stretched; its record counts no
/// occurrence): it is marked as that span of slowed compute on its track, read from the timeline.
/// </summary>
public static partial class FaultMarks
{
    public const int AnyDevice = -1;

    public static IReadOnlyList<FaultMark> From(FaultReport? report, RingTimeline timeline)
    {
        ArgumentNullException.ThrowIfNull(timeline);
        if (report is null)
        {
            return [];
        }

        var devices = timeline.Devices.Count;
        var marks = new List<FaultMark>();
        foreach (var record in report.Records)
        {
            if (SlowedSpan(record.Fault, timeline) is { } slowed)
            {
                marks.Add(slowed);
                continue;
            }

            if (record.FirstInjected is not { } injected || record.Occurrences == 0)
            {
                continue;
            }

            var match = DeviceOf().Match(record.Fault);
            var device = match.Success && int.TryParse(match.Groups["d"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var d) && d < devices ? d : AnyDevice;
            // Recovery of its first occurrence, at the latest: first detection plus the worst time any occurrence took to recover.
            var recovered = record.FirstDetected is { } detected && record.WorstTimeToRecover is { } worst ? (detected + worst).TotalSeconds : (double?)null;
            marks.Add(new FaultMark(injected.TotalSeconds, device, string.Create(CultureInfo.InvariantCulture, $"{record.Fault} ×{record.Occurrences}"))
            {
                RecoveredAt = recovered > injected.TotalSeconds ? recovered : null,
            });
        }

        return marks;
    }

    /// <summary>The span of slowed compute of a <c>slow-device:R*F</c> fault on device R's track; null for another fault or a device that computed nothing.</summary>
    private static FaultMark? SlowedSpan(string fault, RingTimeline timeline)
    {
        var match = SlowDevice().Match(fault);
        if (!match.Success || !int.TryParse(match.Groups["d"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var d) || d >= timeline.Devices.Count)
        {
            return null;
        }

        var computes = timeline.Devices[d].Intervals.Where(i => i.Kind == IntervalKind.Compute).ToList();
        if (computes.Count == 0)
        {
            return null;
        }

        var factor = match.Groups["f"].Value;
        return new FaultMark(computes.Min(i => i.Start), d, $"{fault}: {computes.Count} computes ×{factor} as long")
        {
            SlowedUntil = computes.Max(i => i.End),
        };
    }

    [GeneratedRegex(@"^slow-device:(?<d>\d+)\*(?<f>[0-9.eE+]+)$")]
    private static partial Regex SlowDevice();

    [GeneratedRegex(@"^(?:kill-device:(?<d>\d+)@|slow-device:(?<d>\d+)\*|drop:[^@]*@(?<d>\d+)$)")]
    private static partial Regex DeviceOf();
}
