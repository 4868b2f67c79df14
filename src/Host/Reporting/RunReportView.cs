using System.Globalization;
using RingActors.Actors;
using RingActors.Host.Commands;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace RingActors.Host.Reporting;

/// <summary>Renders a ring job's report as console tables.</summary>
public static class RunReportView
{
    /// <summary>The ring is exact: its fp32 output must be within this relative (Frobenius) error of dense fp32.</summary>
    public const double Tolerance = 1e-5;

    public static IRenderable Render(RunOutcome outcome)
    {
        var report = outcome.Report;
        return new Rows(Summary(report), Accuracy(report), Devices(report), Baselines(report), Comparison(report));
    }

    private static Table Summary(JobReport report)
    {
        var shape = report.Shape;
        var settings = report.Settings;
        var table = new Table().Border(TableBorder.Rounded).Title("ring job " + Markup.Escape(report.JobId)).HideHeaders();
        table.AddColumns("what", "value");
        table.AddRow("problem", $"B={shape.Batch} H={shape.Heads} Hkv={shape.KvHeads} N={shape.SeqLen} d={shape.HeadDim}{(settings.Causal ? ", causal" : string.Empty)}");
        table.AddRow("ring", Markup.Escape($"{settings.Devices} devices, {report.Layout} layout{(settings.Pattern is { } p ? ", restricted to " + p.Name : string.Empty)}"));
        table.AddRow("wall time", $"{Units.Seconds(report.WallTime.TotalSeconds)} (ring {Units.Seconds(report.RingTime.TotalSeconds)})");
        table.AddRow("work", $"{Units.Count(report.RingFlops)} FLOPs, {Units.Fixed(report.RingFlops / System.Math.Max(report.RingTime.TotalSeconds, 1e-9) / 1e9, 1)} GFLOP/s over the ring time");
        table.AddRow("hand-offs", $"{report.HandOffs} ({Units.Fixed((double)report.HandOffs / System.Math.Max(1, settings.Devices), 0)} per device; P−1 = {settings.Devices - 1})");
        table.AddRow("overlap", $"{Units.Percent(report.Overlap)} of hand-off time hidden behind compute");
        table.AddRow("imbalance", $"{Units.Ratio(report.Imbalance)} (max / mean pairs computed per device)");
        table.AddRow("peak per device", Units.Bytes(report.RingPeakBytesPerDevice));
        return table;
    }

    private static Table Accuracy(JobReport report)
    {
        var error = report.RingError;
        var exact = error.RelativeError <= Tolerance;
        var table = new Table().Border(TableBorder.Rounded).Title("ring against dense attention (fp32, same mask)");
        table.AddColumns("max abs error", "relative error", "cosine", "verdict");
        table.AddRow(
            Units.Error(error.MaxAbsError),
            Units.Error(error.RelativeError),
            Units.Fixed(error.CosineSimilarity, 7),
            exact ? $"[green]exact (≤ {Tolerance:0e+0} relative)[/]" : $"[red]NOT exact (> {Tolerance:0e+0} relative)[/]");
        return table;
    }

    private static Table Devices(JobReport report)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("devices");
        table.AddColumns("device", "tokens", "blocks computed", "skipped", "pairs", "compute", "waiting", "sent", "received", "peak resident", "credit waits");
        foreach (var device in report.Devices)
        {
            table.AddRow(
                Int(device.Device),
                Int(device.QueryTokens),
                Int(device.BlocksComputed),
                Int(device.BlocksSkipped),
                Units.Count(device.PairsComputed),
                Units.Seconds(device.ComputeTime.TotalSeconds),
                Units.Seconds(device.WaitingTime.TotalSeconds),
                Units.Bytes(device.BytesSent),
                Units.Bytes(device.BytesReceived),
                Units.Bytes(device.PeakResidentBytes),
                Int(device.HandOffsDelayedByCredit));
        }

        return table;
    }

    private static Table Baselines(JobReport report)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("baselines (single process)")
            .Caption("error of a sparse baseline against dense is the price of its pattern, not a numerical error");
        table.AddColumns("method", "density", "FLOPs", "time", "max abs err vs dense", "rel err vs dense", "peak memory");
        foreach (var baseline in report.Sparse.Prepend(report.Dense))
        {
            table.AddRow(
                Markup.Escape(baseline.Name),
                Units.Percent(baseline.Density),
                Units.Count(baseline.Flops),
                Units.Seconds(baseline.Time.TotalSeconds),
                Units.Error(baseline.ErrorVsDense.MaxAbsError),
                Units.Error(baseline.ErrorVsDense.RelativeError),
                Units.Bytes(baseline.PeakBytes));
        }

        return table;
    }

    private static Table Comparison(JobReport report)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("dense vs sparse vs ring, measured")
            .Caption("complexity = FLOPs computed; scope = density; memory = peak bytes per device; scalability = time(N) / time(N/2): ≈ 4 quadratic, ≈ 2 linear");
        table.AddColumns("method", "complexity (FLOPs)", "scope (density)", "memory per device", "time at N", "time at N/2", "scalability");
        foreach (var row in report.Comparison)
        {
            table.AddRow(
                Markup.Escape(row.Method),
                Units.Count(row.Flops),
                Units.Percent(row.Density),
                Units.Bytes(row.PeakBytesPerDevice),
                Units.Seconds(row.Time.TotalSeconds),
                row.HalfTime is { } half ? Units.Seconds(half.TotalSeconds) : "–",
                row.ScalingRatio is { } ratio ? Units.Ratio(ratio) : "–");
        }

        return table;
    }

    private static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);
}
