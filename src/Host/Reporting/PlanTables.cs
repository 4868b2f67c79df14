using System.Globalization;
using RingActors.Math.Modelling;
using Spectre.Console;

namespace RingActors.Host.Reporting;

/// <summary>The tables <c>ringactors plan</c> prints: the profile, the predicted timing, the block size for overlap, memory.</summary>
public static class PlanTables
{
    /// <summary>Writes the plan's report: profile and ring, prediction, block size for overlap, activation memory per layer.</summary>
    public static void Write(IAnsiConsole console, PlanResult result)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(result);
        var request = result.Request;
        var profile = request.Profile;

        var header = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        header.AddRow("mask", Cli.MaskWords.Name(request.Causal));
        header.AddRow("profile", Markup.Escape(
            $"{profile.Name}: peak {Si(profile.PeakFlops, "FLOP/s")} × efficiency {Num(profile.Efficiency, "G3")} = {Si(profile.EffectiveFlops, "FLOP/s")}; "
            + $"memory {Units.Bytes(profile.MemoryBytes)}; link {Si(profile.LinkBandwidth, "B/s")} per direction, latency {Units.Seconds(profile.LinkLatency)}"));
        header.AddRow("source", Markup.Escape(profile.Source));
        header.AddRow("ring", Markup.Escape(
            $"{request.Devices:N0} devices, N = {request.SeqLen:N0} tokens ({result.BlockSize:N0} on the largest device), "
            + $"B={request.Batch} H={request.Heads} Hkv={request.KvHeads} d={request.HeadDim}, {Name(request.DataType)}, {Name(request.Layout)} layout, "
            + (request.Causal ? "causal" : "no-causal (bidirectional)")));
        console.Write(header);
        console.WriteLine();

        var prediction = Table("prediction (virtual clock: a step lasts FLOPs / F_eff, a hand-off bytes / B + latency)");
        prediction.AddRow("predicted time, whole pass", Units.Seconds(result.PredictedSeconds), $"{request.Devices:N0} ring steps");
        prediction.AddRow("predicted time per step", Units.Seconds(result.PerStepSeconds), "whole pass / P");
        prediction.AddRow("overlap", Units.Percent(result.Overlap), "share of hand-off time hidden behind the receiver's compute");
        prediction.AddRow("idle", Units.Percent(PlanReport.IdleShareOf(result.Timeline)), "devices' idle time / (P × whole pass)");
        prediction.AddRow("imbalance", Units.Ratio(result.Imbalance), "most work on one device / mean (contiguous causal ≈ 2, zigzag and striped ≈ 1)");
        prediction.AddRow("hand-offs", $"{result.Timeline.HandOffs:N0} × {Units.Bytes(result.HandOffBytes)}", "P·(P − 1) K/V blocks, the largest one's size");
        prediction.AddRow("FLOPs", Units.Count(result.TotalFlops), request.Causal ? "4·d·H·b per pair computed, blocks above the diagonal skipped" : "4·d·H·b per pair");
        console.Write(prediction);

        var overlapsExpected = result.BlockSize >= result.MinBlockSizeWithLatency;
        var block = Table("block size for overlap (Ring Attention, Liu et al. 2024: compute 4·d·c² hides a hand-off of 2·c·d elements when c ≥ F/B)");
        block.AddRow("minimal block size c", Tokens(result.MinBlockSize),
            $"(e/2)·(Hkv/H)·F_eff/B for {Name(request.DataType)}, H/Hkv = {request.Heads / request.KvHeads}");
        block.AddRow("paper's c = F/B", Tokens(result.PaperMinBlockSize), "peak F / B, multi-head bf16 (the paper's Table 2 rule)");
        block.AddRow("c with the link latency", Tokens(result.MinBlockSizeWithLatency), "4·d·H·c²/F_eff ≥ 2·d·Hkv·e·c/B + latency");
        block.AddRow("min sequence per device", Tokens(result.MinSeqPerDevice), "6·c, the paper's s");
        block.AddRow("this plan, per device", Tokens(result.BlockSize),
            overlapsExpected ? "≥ c with latency: hand-offs can hide behind compute" : "< c with latency: hand-offs will show as idle time");
        console.Write(block);

        var hidden = (double)request.Hidden;
        var memory = new Table().Border(TableBorder.Rounded)
            .Title(Markup.Escape("activation memory per layer (the paper's formulas in bf16 bytes, scaled by the element size)"));
        memory.AddColumns("method", "bytes", Markup.Escape($"fits in {Units.Bytes(profile.MemoryBytes)}"), "formula");
        memory.AddRow("dense (vanilla), one device", Units.Bytes(result.DenseMemoryBytes), YesNo(result.DenseMemoryBytes <= profile.MemoryBytes), $"2·b·h·s², s = {request.SeqLen:N0}, h = H·d = {hidden:N0}");
        memory.AddRow("memory-efficient, one device", Units.Bytes(result.MemoryEfficientMemoryBytes), YesNo(result.MemoryEfficientMemoryBytes <= profile.MemoryBytes), "8·b·s·h");
        memory.AddRow("blockwise (BPT), one device", Units.Bytes(result.BlockwiseMemoryBytes), YesNo(result.BlockwiseMemoryBytes <= profile.MemoryBytes), "2·b·s·h");
        memory.AddRow("Ring Attention, per device", Units.Bytes(result.MemoryPerDeviceBytes), YesNo(result.Fits), $"6·b·c·h, c = {result.BlockSize:N0} (independent of s)");
        memory.AddRow("ring buffers resident, per device", Units.Bytes(result.ResidentBytesPerDevice), YesNo(result.ResidentBytesPerDevice <= profile.MemoryBytes),
            "b·c·d·(2·H + 4·Hkv)·e: query and output chunks, four K/V blocks");
        console.Write(memory);
    }

    /// <summary>The paper's Table 2 recomputed by <see cref="RingCostModel.Table2"/>, next to the printed values and the deviation.</summary>
    public static void WriteTable2(IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        var table = new Table().Border(TableBorder.Rounded)
            .Title("Table 2 of Liu, Zaharia, Abbeel, Ring Attention (ICLR 2024), recomputed: c = F/B, s = 6·c, K = 1000 tokens")
            .Caption("the paper prints c with one decimal, so 1.04 and 1.054 read 1.0 and 1.1; s agrees within 2% on every row");
        table.AddColumns("hardware", "F (TFLOP/s)", "HBM (GB)", "B (GB/s)", "min c (K)", "printed", "deviation", "min s (K)", "printed", "deviation");
        foreach (var row in RingCostModel.Table2())
        {
            table.AddRow(
                row.Profile,
                Num(row.PeakTflops, "0.#"),
                Num(row.HbmGb, "0"),
                Num(row.BandwidthGBs, "0.#"),
                Num(row.MinBlockK, "F3"),
                Num(row.PrintedMinBlockK, "0.0"),
                Deviation(row.MinBlockK, row.PrintedMinBlockK),
                Num(row.MinSeqK, "F3"),
                Num(row.PrintedMinSeqK, "0.0"),
                Deviation(row.MinSeqK, row.PrintedMinSeqK));
        }

        console.Write(table);
    }

    /// <summary>(computed / printed − 1) as a signed percentage with two decimals.</summary>
    public static string Deviation(double computed, double printed) =>
        ((computed / printed) - 1).ToString("+0.00%;-0.00%;0.00%", CultureInfo.InvariantCulture);

    private static Table Table(string title)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(title));
        table.AddColumns("quantity", "value", "note");
        return table;
    }

    private static string Tokens(double tokens) => tokens.ToString("N0", CultureInfo.InvariantCulture) + " tokens";

    private static string YesNo(bool fits) => fits ? "yes" : "no";

    private static string Num(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Name<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    /// <summary>A rate with a decimal SI prefix, as datasheets print them (300 GB/s, 312 TFLOP/s).</summary>
    private static string Si(double value, string unit)
    {
        string[] prefixes = ["", "k", "M", "G", "T", "P", "E"];
        var prefix = 0;
        while (System.Math.Abs(value) >= 1000 && prefix < prefixes.Length - 1)
        {
            value /= 1000;
            prefix++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{value:0.###} {prefixes[prefix]}{unit}");
    }
}
