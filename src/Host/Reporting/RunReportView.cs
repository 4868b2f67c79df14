using System.Globalization;
using RingActors.Actors;
using RingActors.Host.Commands;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace RingActors.Host.Reporting;

/// <summary>Renders a ring job's report as console tables.</summary>
public static class RunReportView
{
    /// <summary>The ring is exact: its fp32 output must be within this relative (Frobenius) error of the float64 reference.</summary>
    public const double Tolerance = RingVerification.Tolerance;

    public static IRenderable Render(RunOutcome outcome)
    {
        var report = outcome.Report;
        var accuracy = Accuracy(report, outcome.Precision);
        return outcome.Gradients is { } gradients
            ? new Rows(Summary(report, outcome.Precision), accuracy, Gradients(gradients), Devices(report), Baselines(report), Comparison(report))
            : new Rows(Summary(report, outcome.Precision), accuracy, Devices(report), Baselines(report), Comparison(report));
    }

    private static Table Summary(JobReport report, Math.PartialPrecision precision)
    {
        var shape = report.Shape;
        var settings = report.Settings;
        var table = new Table().Border(TableBorder.Rounded).Title($"mask {report.Mask}: ring job {Markup.Escape(report.JobId)}").HideHeaders();
        table.AddColumns("what", "value");
        table.AddRow("problem", $"mask {report.Mask}, B={shape.Batch} H={shape.Heads} Hkv={shape.KvHeads} N={shape.SeqLen} d={shape.HeadDim}");
        table.AddRow("ring", Markup.Escape($"{settings.Devices} devices, {report.Layout} layout{(settings.Pattern is { } p ? ", restricted to " + p.Name : string.Empty)}"));
        table.AddRow("partials", precision == Math.PartialPrecision.Bf16
            ? "bf16: each block's partial output and gradient contributions rounded to bf16, merged in fp32"
            : "fp32");
        table.AddRow("wall time", $"{Time(report.WallTiming, report.WallTime)} (ring {Time(report.RingTiming, report.RingTime)})");
        table.AddRow("work", $"{Units.Count(report.RingFlops)} FLOPs, {Units.Fixed(report.RingFlops / System.Math.Max(report.RingTime.TotalSeconds, 1e-9) / 1e9, 1)} GFLOP/s over the ring time");
        table.AddRow("hand-offs", $"{report.HandOffs} ({Units.Fixed((double)report.HandOffs / System.Math.Max(1, settings.Devices), 0)} per device; P−1 = {settings.Devices - 1})");
        table.AddRow("overlap", $"{Units.Percent(report.Overlap)} of hand-off time hidden behind compute");
        if (report.Backward is { } backward)
        {
            table.AddRow("backward", $"ring {Units.Seconds(backward.RingTime.TotalSeconds)} (the job's own run), {Units.Count(backward.Flops)} FLOPs, "
                + $"{Units.Fixed(backward.Flops / System.Math.Max(backward.RingTime.TotalSeconds, 1e-9) / 1e9, 1)} GFLOP/s, {backward.HandOffs} hand-offs, "
                + $"{backward.ContributionsSent} dK/dV contributions sent home, {backward.ContributionsSummed} summed, peak per device {Units.Bytes(backward.PeakBytesPerDevice)}");
        }
        table.AddRow("imbalance", $"{Units.Ratio(report.Imbalance)} (max / mean pairs computed per device)");
        table.AddRow("peak per device", report.LawBytesPerDevice > 0
            ? $"{Units.Bytes(report.RingPeakBytesPerDevice)}, {Units.Ratio((double)report.RingPeakBytesPerDevice / report.LawBytesPerDevice)} the 6·b·c·h law's {Units.Bytes(report.LawBytesPerDevice)} (fp32, 4 bytes per element)"
            : Units.Bytes(report.RingPeakBytesPerDevice));
        if (report.Memory is { } memory)
        {
            table.AddRow("memory estimated", Markup.Escape(
                $"{Units.Bytes(memory.Required)} before the run: inputs {Units.Bytes(memory.Inputs)}, ring {Units.Bytes(memory.Ring)} ({Units.Bytes(memory.PerDevice)} per device), reference {Units.Bytes(memory.Reference)}"
                + (memory.HalfInput > 0 ? $", N/2 copy {Units.Bytes(memory.HalfInput)}" : string.Empty) + $", runtime {Units.Bytes(memory.Runtime)}"));
        }

        if (SystemMemory.PeakResident() is { } peak)
        {
            table.AddRow("process peak resident", $"{Units.Bytes(peak)} (VmHWM, read from the OS when the report was built)");
        }

        return table;
    }

    /// <summary>A median with its spread, "1.23 s (1.20–1.31 s, 3 runs)"; a single time when no timing was kept.</summary>
    internal static string Time(Timing? timing, TimeSpan time) => timing is null
        ? Units.Seconds(time.TotalSeconds)
        : $"{Units.Seconds(timing.Median.TotalSeconds)} ({Units.Seconds(timing.Min.TotalSeconds)}–{Units.Seconds(timing.Max.TotalSeconds)}, median of {timing.Runs})";

    private static Table Accuracy(JobReport report, Math.PartialPrecision precision)
    {
        var verification = report.Verification;
        var result = verification?.Result;
        var title = verification is null ? "ring: not verified"
            : $"ring against the float64 tiled reference (same mask), --verify {verification.Mode} ({verification.Reason}), {Units.Seconds(verification.Time.TotalSeconds)}";
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(title));
        table.AddColumns("rows checked", "pairs", "rows attending nothing", "max abs error", "relative error", "cosine", "lse max abs error", "worst row", "verdict");
        if (result is null)
        {
            table.AddRow("0", "0", "–", "–", "–", "–", "–", "–", "[yellow]not verified (--verify none)[/]");
            return table;
        }

        var shape = report.Shape;
        var n = shape.SeqLen;
        var worst = result.WorstRow < 0 ? "–"
            : $"b={result.WorstRow / n / shape.Heads} h={result.WorstRow / n % shape.Heads} i={result.WorstRow % n}: {Units.Error(result.WorstRowError)}";
        table.AddRow(
            Units.Count(result.RowsChecked),
            Units.Count(result.Pairs),
            Units.Count(result.EmptyRows),
            Units.Error(result.Error.MaxAbsError),
            Units.Error(result.Error.RelativeError),
            Units.Fixed(result.Error.CosineSimilarity, 7),
            Units.Error(result.LseMaxAbsError),
            worst,
            Verdict(Verdicts.OutputExact(report, precision), $"{Verdicts.Output(precision):0e+0} relative", $"{Verdicts.Row(precision):0e+0}", precision));
        return table;
    }

    private static string Verdict(bool exact, string tolerance, string rowTolerance, Math.PartialPrecision precision)
    {
        var type = precision == Math.PartialPrecision.Bf16 ? ", bf16 tolerance" : string.Empty;
        return exact ? $"[green]exact (≤ {tolerance}, no row > {rowTolerance}{type})[/]"
            : $"[red]NOT exact (> {tolerance}, or a row > {rowTolerance}{type})[/]";
    }

    /// <summary>dQ, dK and dV against the float64 reference, one row each.</summary>
    private static Table Gradients(GradientVerification verification)
    {
        var title = $"gradients against the {verification.Reference} ({verification.Reason}), {Units.Seconds(verification.Time.TotalSeconds)}";
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(title));
        table.AddColumns("gradient", "rows checked", "max abs error", "relative error", "cosine", "verdict");
        if (verification.Errors is not { } errors)
        {
            table.AddRow("dQ, dK, dV", "0", "–", "–", "–", "[yellow]not verified (--verify none)[/]");
            return table;
        }

        var type = verification.Precision == Math.PartialPrecision.Bf16 ? ", bf16 tolerance" : string.Empty;
        foreach (var (name, error, rows) in new[] { ("dQ", errors.Queries, errors.QueryRowsChecked), ("dK", errors.Keys, errors.KeyRowsChecked), ("dV", errors.Values, errors.KeyRowsChecked) })
        {
            var exact = Verdicts.GradientExact(error, verification.Precision);
            table.AddRow(
                name,
                Units.Count(rows),
                Units.Error(error.MaxAbsError),
                Units.Error(error.RelativeError),
                Units.Fixed(error.CosineSimilarity, 7),
                exact ? $"[green]exact (≤ {verification.Tolerance:0e+0} relative{type})[/]" : $"[red]NOT exact (> {verification.Tolerance:0e+0} relative{type})[/]");
        }

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
            if (baseline.NeedsBytes is { } needs)
            {
                table.AddRow(Markup.Escape(baseline.Name), "–", Units.Count(baseline.Flops), DoesNotFit(needs), "–", "–", Units.Bytes(needs));
                continue;
            }

            table.AddRow(
                Markup.Escape(baseline.Name),
                Units.Percent(baseline.Density),
                Units.Count(baseline.Flops),
                Time(baseline.Timing, baseline.Time),
                baseline.ErrorVsDense is { } e ? Units.Error(e.MaxAbsError) : "– (no dense)",
                baseline.ErrorVsDense is { } r ? Units.Error(r.RelativeError) : "– (no dense)",
                Units.Bytes(baseline.PeakBytes));
        }

        return table;
    }

    private static Table Comparison(JobReport report)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("dense vs sparse vs ring, measured")
            .Caption("complexity = FLOPs computed; scope = density; memory = peak bytes per device; times = median of the runs after a warm-up (min–max); scalability = median(N) / median(N/2): ≈ 4 quadratic, ≈ 2 linear");
        table.AddColumns("method", "complexity (FLOPs)", "scope (density)", "memory per device", "time at N", "time at N/2", "scalability");
        foreach (var row in report.Comparison)
        {
            if (row.NeedsBytes is { } needs)
            {
                table.AddRow(Markup.Escape(row.Method), Units.Count(row.Flops), "–", DoesNotFit(needs), "–", "–", "–");
                continue;
            }

            table.AddRow(
                Markup.Escape(row.Method),
                Units.Count(row.Flops),
                Units.Percent(row.Density),
                Units.Bytes(row.PeakBytesPerDevice),
                Time(row.Timing, row.Time),
                row.HalfTime is { } half ? Time(row.HalfTiming, half) : "–",
                row.ScalingRatio is { } ratio ? Units.Ratio(ratio) : "–");
        }

        return table;
    }

    private static string DoesNotFit(long needs) => $"does not fit: needs {JobMemory.GiB(needs)}";

    private static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);
}
