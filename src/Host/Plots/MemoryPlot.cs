using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace RingActors.Host.Plots;

/// <summary>One method's memory against the sequence length: measured points and, where it could not run, computed ones.</summary>
public sealed record MemorySeries(string Name, IReadOnlyList<(int SeqLen, double Bytes, bool Measured)> Points);

/// <summary>
/// Memory against N on log–log axes (ScottPlot): a line per method, filled markers where measured, hollow where computed.
/// The slope reads the law: 2 for dense's N², 1 for blockwise, 0 for the ring's per-device memory at a fixed chunk.
/// </summary>
public static class MemoryPlot
{
    private static readonly Color[] Colours = [Color.FromHex("#d62728"), Color.FromHex("#1f77b4"), Color.FromHex("#2ca02c"), Color.FromHex("#9467bd")];

    /// <summary>Writes the chart to <paramref name="path"/> (.png or .svg).</summary>
    public static void Save(IReadOnlyList<MemorySeries> series, string path, string title)
    {
        ArgumentNullException.ThrowIfNull(series);
        var extension = Path.GetExtension(path).ToUpperInvariant();
        var format = extension switch
        {
            ".PNG" => ImageFormat.Png,
            ".SVG" => ImageFormat.Svg,
            _ => throw new ArgumentException($"--plot must name a .png or .svg file, got '{path}'", nameof(path)),
        };

        using var plot = new Plot();
        plot.Title(title);
        plot.XLabel("sequence length N (tokens, log scale)");
        plot.YLabel("bytes (log scale)");
        for (var s = 0; s < series.Count; s++)
        {
            var points = series[s].Points.Where(p => p.Bytes > 0).ToArray();
            if (points.Length == 0)
            {
                continue;
            }

            var line = plot.Add.Scatter(points.Select(p => System.Math.Log10(p.SeqLen)).ToArray(), points.Select(p => System.Math.Log10(p.Bytes)).ToArray());
            line.LegendText = series[s].Name;
            line.Color = Colours[s % Colours.Length];
            line.MarkerSize = 0;
            foreach (var measured in new[] { true, false })
            {
                var chosen = points.Where(p => p.Measured == measured).ToArray();
                if (chosen.Length == 0)
                {
                    continue;
                }

                var markers = plot.Add.Markers(chosen.Select(p => System.Math.Log10(p.SeqLen)).ToArray(), chosen.Select(p => System.Math.Log10(p.Bytes)).ToArray());
                markers.Color = Colours[s % Colours.Length];
                markers.MarkerShape = measured ? MarkerShape.FilledCircle : MarkerShape.OpenCircle;
                markers.MarkerSize = 9;
            }
        }

        plot.Axes.Bottom.TickGenerator = new NumericAutomatic { LabelFormatter = x => Tokens(System.Math.Pow(10, x)), MinorTickGenerator = new LogMinorTickGenerator() };
        plot.Axes.Left.TickGenerator = new NumericAutomatic { LabelFormatter = y => Bytes(System.Math.Pow(10, y)), MinorTickGenerator = new LogMinorTickGenerator(), IntegerTicksOnly = true };
        plot.ShowLegend(Alignment.UpperLeft);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        plot.Save(path, 1200, 800, format);
    }

    private static string Tokens(double n) => n >= 1 << 20 ? Format(n / (1 << 20), "M") : n >= 1024 ? Format(n / 1024, "K") : Format(n, string.Empty);

    private static string Bytes(double b) => b >= 1L << 30 ? Format(b / (1L << 30), " GiB") : b >= 1 << 20 ? Format(b / (1 << 20), " MiB") : b >= 1024 ? Format(b / 1024, " KiB") : Format(b, " B");

    private static string Format(double value, string unit) => value.ToString(value >= 10 ? "F0" : "G2", CultureInfo.InvariantCulture) + unit;
}
