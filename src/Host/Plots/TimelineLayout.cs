using RingActors.Math.Modelling;

namespace RingActors.Host.Plots;

/// <summary>One bar of the chart: a run of one interval kind on one lane of one row, in seconds.</summary>
internal readonly record struct TimelineSegment(IntervalKind Kind, int Row, double Start, double End);

/// <summary>
/// What a timeline chart draws, decided before any drawing: which devices get a row (at most <see cref="TimelinePlot.MaxRows"/>,
/// the first and last halves of a larger ring) and the bars of each row, snapped to the pixel grid and merged, so a row
/// never has more bars than the plot has pixels across, however many steps the ring has.
/// </summary>
internal sealed record TimelineLayout(IReadOnlyList<int?> Rows, IReadOnlyList<TimelineSegment> Segments, int HiddenDevices, double PixelSeconds)
{
    /// <summary>Devices drawn, top to bottom; a null row stands for the <paramref name="devices"/> − cap devices left out.</summary>
    public static IReadOnlyList<int?> SelectRows(int devices, int cap)
    {
        if (devices <= cap)
        {
            return [.. Enumerable.Range(0, devices).Select(d => (int?)d)];
        }

        var head = cap / 2;
        var tail = cap - head;
        return [.. Enumerable.Range(0, head).Select(d => (int?)d), null, .. Enumerable.Range(devices - tail, tail).Select(d => (int?)d)];
    }

    /// <summary>The rows and bars of <paramref name="timeline"/> on a plot <paramref name="pixels"/> wide.</summary>
    public static TimelineLayout Of(RingTimeline timeline, int cap, int pixels)
    {
        ArgumentNullException.ThrowIfNull(timeline);
        var rows = SelectRows(timeline.Devices.Count, cap);
        var pixelSeconds = timeline.TotalSeconds > 0 ? timeline.TotalSeconds / pixels : 1;
        var segments = new List<TimelineSegment>();
        for (var row = 0; row < rows.Count; row++)
        {
            if (rows[row] is not { } device)
            {
                continue;
            }

            var intervals = timeline.Devices[device].Intervals;
            foreach (var kind in Kinds)
            {
                Snap(intervals, kind, row, pixelSeconds, segments);
            }
        }

        return new TimelineLayout(rows, segments, timeline.Devices.Count - rows.Count(r => r is not null), pixelSeconds);
    }

    /// <summary>Bars closer than this many pixels, or touching and narrower than it, are merged.</summary>
    public const int MinBarPixels = 4;

    /// <summary>Interval kinds in drawing order.</summary>
    public static readonly IntervalKind[] Kinds = [IntervalKind.Idle, IntervalKind.Compute, IntervalKind.Communicate];

    /// <summary>
    /// Whether the run [start, end) joins the open bar [openStart, openEnd) (pixels): when they overlap (hand-offs overlap by
    /// up to one latency), when the gap between them is under <see cref="MinBarPixels"/>, or when they touch and one is
    /// narrower than that. So a small ring keeps a visible edge between the steps of a device, and every bar of a kind, with
    /// the gap after it, spans at least <see cref="MinBarPixels"/>: at most pixels / <see cref="MinBarPixels"/> + 1 bars.
    /// Idle has no steps to show: touching idle runs always merge.
    /// </summary>
    private static bool Merges(IntervalKind kind, long openStart, long openEnd, long start, long end) =>
        start < openEnd
        || (start > openEnd && start - openEnd < MinBarPixels)
        || (start == openEnd && (kind == IntervalKind.Idle || end - start < MinBarPixels || openEnd - openStart < MinBarPixels));

    /// <summary>
    /// Rounds each interval of <paramref name="kind"/> to the nearest pixel edges, drops those that round to nothing and
    /// merges them as <see cref="Merges"/> says.
    /// </summary>
    private static void Snap(IReadOnlyList<TimelineInterval> intervals, IntervalKind kind, int row, double pixelSeconds, List<TimelineSegment> into)
    {
        // Measured timelines need not list a kind in time order; the simulator's do, so this sort is cheap.
        var ofKind = intervals.Where(i => i.Kind == kind).OrderBy(i => i.Start);
        long openStart = -1, openEnd = -1;
        foreach (var interval in ofKind)
        {
            var start = (long)System.Math.Round(interval.Start / pixelSeconds);
            var end = (long)System.Math.Round(interval.End / pixelSeconds);
            if (end <= start)
            {
                continue;
            }

            if (openStart >= 0 && Merges(kind, openStart, openEnd, start, end))
            {
                openEnd = System.Math.Max(openEnd, end);
                continue;
            }

            if (openStart >= 0)
            {
                into.Add(new TimelineSegment(kind, row, openStart * pixelSeconds, openEnd * pixelSeconds));
            }

            (openStart, openEnd) = (start, end);
        }

        if (openStart >= 0)
        {
            into.Add(new TimelineSegment(kind, row, openStart * pixelSeconds, openEnd * pixelSeconds));
        }
    }
}
