using System.Text;
using RingActors.Host.Plots;
using RingActors.Math;
using RingActors.Math.Modelling;

namespace RingActors.Host.Tests.Plots;

public sealed class TimelinePlotSpec : IDisposable
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly string _directory = Directory.CreateTempSubdirectory("ringactors-plot-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>A PNG starts with its signature; an SVG holds an svg element.</summary>
    internal static void AssertImage(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.NotEmpty(bytes);
        if (path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Equal(PngSignature, bytes[..PngSignature.Length]);
        }
        else
        {
            Assert.Contains("<svg", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("ring.png")]
    [InlineData("ring.svg")]
    [InlineData("RING.PNG")]
    public void Save_must_write_png_or_svg_by_extension_with_faults_marked(string name)
    {
        var path = Path.Combine(_directory, "nested", name);
        var timeline = Plan(devices: 4, causal: true);
        TimelinePlot.Save(timeline, path, "4 devices", [new FaultMark(timeline.TotalSeconds / 3, 2, "crash"), new FaultMark(timeline.TotalSeconds / 2, 0, "link down")]);
        AssertImage(path);
        if (name.EndsWith(".svg", StringComparison.Ordinal))
        {
            var svg = File.ReadAllText(path);
            Assert.Contains("time (s)", svg);
            Assert.Contains("crash (device 2)", svg);
        }
    }

    [Theory]
    [InlineData("ring.pdf")]
    [InlineData("ring")]
    [InlineData("ring.png.txt")]
    public void Save_must_refuse_other_extensions_naming_png_and_svg(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => TimelinePlot.Save(Plan(devices: 2, causal: false), Path.Combine(_directory, name), "x"));
        Assert.Contains(".png", error.Message);
        Assert.Contains(".svg", error.Message);
        Assert.False(File.Exists(Path.Combine(_directory, name)));
    }

    [Fact]
    public void Save_must_refuse_a_timeline_without_intervals_and_faults_outside_the_ring()
    {
        var totalsOnly = RingPlanner.Plan(Request(4, causal: false) with { RecordTimeline = false }).Timeline;
        var empty = Assert.Throws<ArgumentException>(() => TimelinePlot.Save(totalsOnly, Path.Combine(_directory, "a.png"), "x"));
        Assert.Contains("no intervals", empty.Message);

        var timeline = Plan(devices: 4, causal: false);
        var outside = Assert.Throws<ArgumentException>(() => TimelinePlot.Save(timeline, Path.Combine(_directory, "b.png"), "x", [new FaultMark(0.1, 4, "crash")]));
        Assert.Contains("its device within the ring of 4 devices", outside.Message);
        Assert.Throws<ArgumentException>(() => TimelinePlot.Save(timeline, Path.Combine(_directory, "c.png"), "x", [new FaultMark(double.NaN, 0, "crash")]));
    }

    [Fact]
    public void Layout_must_draw_every_row_of_a_small_ring_with_device_0_first()
    {
        var timeline = Plan(devices: 5, causal: true);
        var layout = TimelineLayout.Of(timeline, TimelinePlot.MaxRows, pixels: 1000);
        Assert.Equal([0, 1, 2, 3, 4], layout.Rows);
        Assert.Equal(0, layout.HiddenDevices);

        // The compute lane (compute and idle) of each row covers the whole ring time, within a pixel at each bar edge.
        var pixel = timeline.TotalSeconds / 1000;
        for (var row = 0; row < 5; row++)
        {
            var lane = layout.Segments.Where(s => s.Row == row && s.Kind != IntervalKind.Communicate).Sum(s => s.End - s.Start);
            var bars = layout.Segments.Count(s => s.Row == row && s.Kind != IntervalKind.Communicate);
            Assert.InRange(lane, timeline.TotalSeconds - (bars * pixel), timeline.TotalSeconds + (bars * pixel));
            var compute = layout.Segments.Where(s => s.Row == row && s.Kind == IntervalKind.Compute).Sum(s => s.End - s.Start);
            Assert.Equal(timeline.Devices[row].ComputeSeconds, compute, bars * pixel);
        }
    }

    [Fact]
    public void Layout_of_1024_devices_must_keep_within_the_row_cap_and_a_bar_per_few_pixels()
    {
        const int Pixels = 1400;
        var timeline = Plan(devices: 1024, causal: true);
        var layout = TimelineLayout.Of(timeline, TimelinePlot.MaxRows, Pixels);
        Assert.Equal(TimelinePlot.MaxRows + 1, layout.Rows.Count);
        Assert.Equal(1024 - TimelinePlot.MaxRows, layout.HiddenDevices);
        Assert.Equal(0, layout.Rows[0]);
        Assert.Equal(TimelinePlot.MaxRows / 2 - 1, layout.Rows[TimelinePlot.MaxRows / 2 - 1]);
        Assert.Null(layout.Rows[TimelinePlot.MaxRows / 2]);
        Assert.Equal(1023, layout.Rows[^1]);

        // 1024 devices make about 3 million intervals; the chart keeps at most a bar per MinBarPixels per lane and kind.
        var perRowBound = TimelineLayout.Kinds.Length * ((Pixels / TimelineLayout.MinBarPixels) + 2);
        Assert.All(layout.Segments.GroupBy(s => s.Row), row => Assert.True(row.Count() <= perRowBound, $"row {row.Key}: {row.Count()} bars"));
        Assert.True(layout.Segments.Count <= TimelinePlot.MaxRows * perRowBound);

        var path = Path.Combine(_directory, "large.svg");
        TimelinePlot.Save(timeline, path, "1024 devices");
        AssertImage(path);
    }

    [Fact]
    public void SelectRows_must_keep_the_first_and_last_halves_of_a_large_ring()
    {
        Assert.Equal([0, 1, 2], TimelineLayout.SelectRows(3, 4));
        Assert.Equal([0, 1, 2, 3], TimelineLayout.SelectRows(4, 4));
        Assert.Equal([0, 1, null, 3, 4], TimelineLayout.SelectRows(5, 4));
        Assert.Equal([0, 1, null, 8, 9, 10], TimelineLayout.SelectRows(11, 5));
    }

    private static PlanRequest Request(int devices, bool causal) =>
        new(ProfileCatalog.Get("a100-infiniband"), devices, devices * 512, 4, 2, 64, ElementType.Bf16, LayoutKind.Contiguous, causal);

    private static RingTimeline Plan(int devices, bool causal) => RingPlanner.Plan(Request(devices, causal)).Timeline;
}
