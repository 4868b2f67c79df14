using System.Globalization;
using System.Text.RegularExpressions;
using RingActors.Actors.Faults;
using RingActors.Host.Plots;

namespace RingActors.Host.Reporting;

/// <summary>
/// The faults of a trial as marks on its timeline: each fault that struck, at its first injection (seconds since the ring
/// started), on the device its spec names (<c>kill-device:1@…</c>, <c>slow-device:2*…</c>, <c>drop:p@3</c>); a fault
/// without a device (a drop on every link) gets <see cref="AnyDevice"/>, drawn across the whole trace.
/// </summary>
public static partial class FaultMarks
{
    public const int AnyDevice = -1;

    public static IReadOnlyList<FaultMark> From(FaultReport? report, int devices)
    {
        if (report is null)
        {
            return [];
        }

        var marks = new List<FaultMark>();
        foreach (var record in report.Records)
        {
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

    [GeneratedRegex(@"^(?:kill-device:(?<d>\d+)@|slow-device:(?<d>\d+)\*|drop:[^@]*@(?<d>\d+)$)")]
    private static partial Regex DeviceOf();
}
