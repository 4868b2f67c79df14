using System.Globalization;
using RingActors.Math.Modelling;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace RingActors.Host.Plots;

/// <summary>
/// Draws a ring timeline as a Gantt chart with ScottPlot: one row per device (device 0 at the top), each with a compute
/// lane (compute or idle) and a thin lane below it for the hand-off travelling to the device; fault marks as red dashed
/// lines with labels, each recovery shaded, a slow device's span of slowed compute outlined over its row; the x axis in seconds. Rings larger than <see cref="MaxRows"/> devices show their first and last
/// <see cref="MaxRows"/>/2 devices and say so in the title.
/// </summary>
public static class TimelinePlot
{
    /// <summary>Most device rows drawn; a larger ring shows its first and last half of this many.</summary>
    public const int MaxRows = 64;

    private const int Width = 1600;
    private const int PlotPixels = Width - 200;
    private const int ChromePixels = 170;
    private const int FaultLabelLevels = 3;
    private const float FaultLabelPixels = 20;
    private const double ComputeLaneCentre = 0.12;
    private const double ComputeLaneHeight = 0.5;
    private const double CommunicationLaneCentre = -0.28;
    private const double CommunicationLaneHeight = 0.2;

    private static readonly Color ComputeColour = Color.FromHex("#1f77b4");
    private static readonly Color CommunicationColour = Color.FromHex("#ff7f0e");
    private static readonly Color IdleColour = Color.FromHex("#d0d0d0");
    private static readonly Color FaultColour = Color.FromHex("#d62728");
    private static readonly Color SlowedColour = Color.FromHex("#9467bd");

    /// <summary>
    /// Writes the chart of <paramref name="timeline"/> to <paramref name="path"/>: PNG for <c>.png</c>, SVG for <c>.svg</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Another extension, a timeline simulated without its intervals, or a fault outside the ring.</exception>
    public static void Save(RingTimeline timeline, string path, string title, IReadOnlyList<FaultMark>? faults = null)
    {
        ArgumentNullException.ThrowIfNull(timeline);
        var format = FormatOf(path);
        if (timeline.Devices.Count > 0 && timeline.Devices.All(d => d.Intervals.Count == 0))
        {
            throw new ArgumentException("the timeline holds no intervals (it was simulated with recordIntervals: false): nothing to draw", nameof(timeline));
        }

        faults ??= [];
        foreach (var fault in faults)
        {
            if (!double.IsFinite(fault.Time) || fault.Time < 0 || fault.Device < 0 || fault.Device >= timeline.Devices.Count || fault.SlowedUntil < fault.Time)
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"fault '{fault.Label}' at {fault.Time} s on device {fault.Device}: its time must be finite and ≥ 0 and its device within the ring of {timeline.Devices.Count} devices"),
                    nameof(faults));
            }
        }

        var layout = TimelineLayout.Of(timeline, MaxRows, PlotPixels);
        using var plot = Draw(timeline, layout, title, faults);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        plot.Save(path, Width, HeightFor(layout.Rows.Count), format);
    }

    /// <summary>The image format for <paramref name="path"/>'s extension.</summary>
    /// <exception cref="ArgumentException">Neither .png nor .svg.</exception>
    public static ImageFormat FormatOf(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return Path.GetExtension(path).ToUpperInvariant() switch
        {
            ".PNG" => ImageFormat.Png,
            ".SVG" => ImageFormat.Svg,
            _ => throw new ArgumentException($"cannot draw a timeline to '{path}': the file name must end in .png or .svg", nameof(path)),
        };
    }

    private static Plot Draw(RingTimeline timeline, TimelineLayout layout, string title, IReadOnlyList<FaultMark> faults)
    {
        var plot = new Plot();
        var rows = layout.Rows.Count;
        // Row 0 at the top: row i is drawn at y = rows − 1 − i.
        double Y(int row) => rows - 1 - row;

        foreach (var kind in TimelineLayout.Kinds)
        {
            var isCommunication = kind == IntervalKind.Communicate;
            var bars = layout.Segments.Where(s => s.Kind == kind).Select(s => new Bar
            {
                Position = Y(s.Row) + (isCommunication ? CommunicationLaneCentre : ComputeLaneCentre),
                Size = isCommunication ? CommunicationLaneHeight : ComputeLaneHeight,
                ValueBase = s.Start,
                Value = s.End,
                FillColor = ColourOf(kind),
                // A white edge separates the steps of a device; on a bar a few pixels wide it would hide the colour.
                LineColor = Colors.White,
                LineWidth = (s.End - s.Start) / layout.PixelSeconds >= 2 * TimelineLayout.MinBarPixels ? 1 : 0,
            }).ToList();
            var barPlot = plot.Add.Bars(bars);
            barPlot.Horizontal = true;
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = NameOf(kind), FillColor = ColourOf(kind) });
        }

        var ticks = new NumericManual();
        for (var row = 0; row < rows; row++)
        {
            ticks.AddMajor(Y(row), layout.Rows[row] is { } device
                ? device.ToString(CultureInfo.InvariantCulture)
                : string.Create(CultureInfo.InvariantCulture, $"… {layout.HiddenDevices} more"));
        }

        plot.Axes.Left.TickGenerator = ticks;

        // Fault labels sit in a band reserved above row 0, staggered over a few levels so close faults stay legible.
        var ordered = faults.OrderBy(f => f.Time).ToList();
        var levels = System.Math.Min(ordered.Count, FaultLabelLevels);
        var rowPixels = (HeightFor(rows) - ChromePixels) / (rows + 0.5);
        var top = rows - 0.3 + (levels * FaultLabelPixels / rowPixels);
        for (var i = 0; i < ordered.Count; i++)
        {
            var fault = ordered[i];
            if (fault.RecoveredAt is { } recovered)
            {
                // The recovery shaded from the fault to the moment the ring had recovered from it.
                var span = plot.Add.HorizontalSpan(fault.Time, recovered, FaultColour.WithAlpha(0.15));
                span.LineStyle.Width = 0;
            }

            plot.Add.VerticalLine(fault.Time, 2, FaultColour, LinePattern.Dashed);
            var label = plot.Add.Text(string.Create(CultureInfo.InvariantCulture, $"{fault.Label} (device {fault.Device})"), fault.Time, top);
            label.Alignment = Alignment.UpperLeft;
            label.OffsetX = 3;
            label.OffsetY = (i % FaultLabelLevels * FaultLabelPixels) + 2;
            label.LabelFontColor = Colors.White;
            label.LabelBackgroundColor = FaultColour;
            label.LabelFontSize = 12;
            label.LabelPadding = 2;
            var row = IndexOf(layout.Rows, fault.Device);
            if (row >= 0 && fault.SlowedUntil is { } slowedUntil)
            {
                // Over the device's compute lane, a little taller, translucent so the computes under it stay visible.
                var slowed = plot.Add.Bars(new[]
                {
                    new Bar
                    {
                        Position = Y(row) + ComputeLaneCentre,
                        Size = ComputeLaneHeight * 1.3,
                        ValueBase = fault.Time,
                        Value = slowedUntil,
                        FillColor = SlowedColour.WithAlpha(0.3),
                        LineColor = SlowedColour,
                        LineWidth = 2,
                    },
                });
                slowed.Horizontal = true;
            }

            if (row >= 0)
            {
                plot.Add.Marker(fault.Time, Y(row) + ComputeLaneCentre, MarkerShape.FilledDiamond, 12, FaultColour);
            }
        }

        if (ordered.Count > 0)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = "fault", LineColor = FaultColour, LineWidth = 2, LinePattern = LinePattern.Dashed });
            if (ordered.Any(f => f.RecoveredAt is not null))
            {
                plot.Legend.ManualItems.Add(new LegendItem { LabelText = "recovery", FillColor = FaultColour.WithAlpha(0.15) });
            }

            if (ordered.Any(f => f.SlowedUntil is not null))
            {
                plot.Legend.ManualItems.Add(new LegendItem { LabelText = "slowed compute", FillColor = SlowedColour.WithAlpha(0.3), LineColor = SlowedColour });
            }
        }

        var shown = layout.HiddenDevices > 0
            ? string.Create(CultureInfo.InvariantCulture, $" (devices 0–{MaxRows / 2 - 1} and {timeline.Devices.Count - (MaxRows - MaxRows / 2)}–{timeline.Devices.Count - 1} of {timeline.Devices.Count} shown)")
            : string.Empty;
        plot.Title(title + shown);
        plot.XLabel("time (s)");
        plot.YLabel("device");
        plot.ShowLegend(Edge.Bottom);
        var end = timeline.TotalSeconds > 0 ? timeline.TotalSeconds : 1;
        plot.Axes.SetLimits(0, end * 1.02, -0.8, top);
        return plot;
    }

    /// <summary>Image height: about 18 pixels per row plus the title, axis and legend.</summary>
    private static int HeightFor(int rows) => System.Math.Clamp(ChromePixels + 10 + (rows * 18), 360, 1600);

    private static int IndexOf(IReadOnlyList<int?> rows, int device)
    {
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i] == device)
            {
                return i;
            }
        }

        return -1;
    }

    private static Color ColourOf(IntervalKind kind) => kind switch
    {
        IntervalKind.Compute => ComputeColour,
        IntervalKind.Communicate => CommunicationColour,
        _ => IdleColour,
    };

    private static string NameOf(IntervalKind kind) => kind switch
    {
        IntervalKind.Compute => "compute",
        IntervalKind.Communicate => "communication (hand-off arriving)",
        _ => "idle",
    };
}
