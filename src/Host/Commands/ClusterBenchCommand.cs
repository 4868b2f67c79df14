using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using RingActors.Actors;
using RingActors.Actors.Cluster;
using RingActors.Host.Benchmarks;
using RingActors.Host.Reporting;
using RingActors.Math;
using RingActors.Math.Modelling;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RingActors.Host.Commands;

/// <summary>
/// <c>ringactors bench cluster</c>: the ring over P device node processes on loopback against the same ring in one process,
/// swept over the sequence length so the per-device chunk c = N/P grows: wall-time ratio, bytes per second across the
/// network, and overlap per chunk size; then the chunk size where overlap first reaches 90% next to the rule c ≥ 2·(Hkv/H)·F/B
/// (fp32, ANCHORS.md §1) with F the one-thread kernel rate and B the link rate measured in the same run.
/// </summary>
public sealed class ClusterBenchCommand(IAnsiConsole console) : AsyncCommand<ClusterBenchCommand.Settings>
{
    /// <summary>Overlap at which a chunk size counts as hiding its hand-offs.</summary>
    private const double OverlapTarget = 0.9;

    /// <summary>Device node processes the bench starts on this machine, one per device.</summary>
    private const int MaxNodeProcesses = 64;

    public sealed class Settings : CommandSettings
    {
        [CommandOption("--seq <N>")]
        [Description("Sequence lengths to sweep, comma-separated; each gives a per-device chunk of N/P tokens.")]
        [DefaultValue("768,1536,3072,6144,12288,24576,49152")]
        public string Seq { get; init; } = "768,1536,3072,6144,12288,24576,49152";

        [CommandOption("--devices <P>")]
        [Description("Devices in the ring, one per node process.")]
        [DefaultValue(3)]
        public int Devices { get; init; } = 3;

        [CommandOption("--heads <H>")]
        [DefaultValue(2)]
        public int Heads { get; init; } = 2;

        [CommandOption("--kv-heads <HKV>")]
        [DefaultValue(2)]
        public int KvHeads { get; init; } = 2;

        [CommandOption("--dim <D>")]
        [DefaultValue(64)]
        public int Dim { get; init; } = 64;

        [CommandOption("--up-timeout <SECONDS>")]
        [Description("How long to wait for the node processes to be Up.")]
        [DefaultValue(60)]
        public int UpTimeout { get; init; } = 60;

        public IReadOnlyList<int> SeqLengths =>
            [.. Seq.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1)];

        public override Spectre.Console.ValidationResult Validate()
        {
            var error = Devices <= 0 ? $"--devices must be ≥ 1, got {Devices}"
                : Cli.OptionLimits.Whole("--devices", Devices, 1, MaxNodeProcesses)
                ?? (SeqLengths.Count == 0 || SeqLengths.Any(n => n < Devices) ? $"--seq must list integers ≥ --devices ({Devices}), got '{Seq}'" : null)
                ?? (Heads <= 0 || KvHeads <= 0 || Heads % KvHeads != 0 ? $"--heads ({Heads}) must be a positive multiple of --kv-heads ({KvHeads})" : null)
                ?? (Dim <= 0 ? $"--dim must be ≥ 1, got {Dim}" : null)
                ?? Cli.OptionLimits.Whole("--up-timeout", UpTimeout, 1, Cli.OptionLimits.MaxSeconds);
            if (error is null)
            {
                try
                {
                    // Every length of the sweep must make inputs one array can hold.
                    foreach (var seq in SeqLengths)
                    {
                        new AttentionShape(1, Heads, KvHeads, seq, Dim).Validate();
                    }
                }
                catch (ArgumentException shape)
                {
                    error = Cli.UserError.WithoutParameter(shape);
                }
            }

            return error is null ? base.Validate() : Spectre.Console.ValidationResult.Error(error);
        }
    }

    /// <summary>One sequence length measured on the cluster and in one process.</summary>
    /// <summary>Wall time at or below which the cluster counts as keeping up with one process, past the overlap threshold.</summary>
    private const double WallRatioTarget = 1.3;

    /// <param name="LinkRates">Per link r → r+1: K/V bytes its receiver accepted over their hand-off times (ready → accepted), bytes/s.</param>
    private sealed record Row(int Seq, int Chunk, double ClusterWall, double LocalWall, long NetworkBytes, double ClusterRing, double Overlap, double LocalOverlap, IReadOnlyList<double> LinkRates)
    {
        public double BytesPerSecond => NetworkBytes / ClusterRing;

        public double MedianLinkRate => LinkRates.Order().ElementAt(LinkRates.Count / 2);
    }

    /// <summary>Each link's hand-off rate as its receiver saw it: bytes accepted over the time from the sender having a block to its acceptance.</summary>
    private static double[] LinkRates(RingResult ring) =>
        ring.Devices.Select(d => d.HandOffTime > TimeSpan.Zero ? d.BytesReceived / d.HandOffTime.TotalSeconds : 0).ToArray();

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var p = settings.Devices;
        var kernelRate = KernelRate(settings);
        console.MarkupLine($"kernel rate F (BlockwiseAttention, 1 thread, H={settings.Heads} Hkv={settings.KvHeads} d={settings.Dim}): {kernelRate / 1e9:F2} GFLOP/s");

        await using var coordinator = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Coordinator, Port = 0 });
        await using var children = new ChildNodes();
        var local = Cli.LocalActorSystem.Create("clusterbench");
        try
        {
            var timeout = TimeSpan.FromSeconds(settings.UpTimeout);
            await coordinator.WhenUp.WaitAsync(timeout, cancellationToken);
            for (var i = 0; i < p; i++)
            {
                children.StartDevice(coordinator.Address.ToString());
            }

            var members = await ClusterMembership.WaitForUpAsync(coordinator.System, ClusterRoles.Device, p, timeout, cancellationToken);
            var placement = DevicePlacement.Place("round-robin", p, members.Take(p).Select(m => m.Address).ToList());
            console.MarkupLine($"coordinator {Markup.Escape(coordinator.Address.ToString())}: {p} device node processes Up on loopback");

            var rows = new List<Row>();
            var warmedUp = false;
            foreach (var seq in settings.SeqLengths)
            {
                var input = AttentionInput.Random(new AttentionShape(1, settings.Heads, settings.KvHeads, seq, settings.Dim), seed: seq);
                var job = new RingJobSettings(p, LayoutKind.Contiguous, Causal: false, ThreadsPerDevice: 1, Deadline: TimeSpan.FromMinutes(10));
                if (!warmedUp)
                {
                    // JIT and first connections on both sides, not timed.
                    await RingRunner.RunAsync(coordinator.System, input, ClusterRun.OnCluster(job, placement), null, cancellationToken);
                    await RingRunner.RunAsync(local, input, job, null, cancellationToken);
                    warmedUp = true;
                }

                // Exactly what run --cluster sends: the same placement type and acknowledged device-to-device links.
                var onCluster = await RingRunner.RunAsync(coordinator.System, input, ClusterRun.OnCluster(job, placement), null, cancellationToken);
                var inProcess = await RingRunner.RunAsync(local, input, job, null, cancellationToken);
                var row = new Row(seq, seq / p, onCluster.WallTime.TotalSeconds, inProcess.WallTime.TotalSeconds, onCluster.NetworkBytes, onCluster.RingTime.TotalSeconds, onCluster.Overlap, inProcess.Overlap, LinkRates(onCluster));
                rows.Add(row);
                console.MarkupLine($"N={seq}: chunk {row.Chunk}, cluster {Units.Seconds(row.ClusterWall)}, one process {Units.Seconds(row.LocalWall)}, overlap {Units.Percent(row.Overlap)}");
            }

            Report(settings, rows, kernelRate);
            return 0;
        }
        finally
        {
            // Leave the cluster while the device nodes still answer, so that the exit is quiet (no unreachable nodes, no
            // split-brain decision); the children are killed after (ChildNodes' dispose).
            await local.Terminate();
            await coordinator.LeaveAsync();
        }
    }

    private void Report(Settings settings, IReadOnlyList<Row> rows, double kernelRate)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"ring of {settings.Devices} devices: {settings.Devices} node processes on loopback vs one process; B=1 H={settings.Heads} Hkv={settings.KvHeads} d={settings.Dim}, full mask, contiguous")
            .Caption("wall: job start to reassembled result; network: serialized bytes between nodes over the cluster ring time; overlap: hidden / total hand-off time");
        table.AddColumns("N", "chunk c (tokens)", "cluster wall", "one-process wall", "cluster / one process", "network bytes", "network rate", "hand-off MiB/s per link", "overlap (cluster)", "overlap (one process)");
        foreach (var row in rows)
        {
            table.AddRow(
                row.Seq.ToString(CultureInfo.InvariantCulture),
                row.Chunk.ToString(CultureInfo.InvariantCulture),
                Units.Seconds(row.ClusterWall),
                Units.Seconds(row.LocalWall),
                Units.Ratio(row.ClusterWall / row.LocalWall),
                Units.Bytes(row.NetworkBytes),
                $"{row.BytesPerSecond / 1048576:F1} MiB/s",
                string.Join(" / ", row.LinkRates.Select(r => (r / 1048576).ToString("F0", CultureInfo.InvariantCulture))),
                Units.Percent(row.Overlap),
                Units.Percent(row.LocalOverlap));
        }

        console.Write(table);

        // B: the best hand-off rate a link sustained in the sweep (median over the links of one row): where compute dominates, a
        // block waits for its successor's credit, which counts as hand-off time and understates the link.
        var linkRate = rows.Max(r => r.MedianLinkRate);
        var profile = new DeviceProfile("measured", kernelRate, 1, 1L << 30, linkRate, 0, "bench cluster: F one kernel thread, B best per-link hand-off rate of the sweep");
        var predicted = RingCostModel.MinBlockSize(profile, ElementType.Fp32, settings.Heads, settings.KvHeads);
        console.MarkupLine($"F = {kernelRate / 1e9:F2} GFLOP/s (one thread), B = {linkRate / 1048576:F1} MiB/s (best per-link hand-off rate of the sweep, median over links)");
        console.MarkupLine($"rule c ≥ 2·(Hkv/H)·F/B (fp32): predicted threshold {predicted:F0} tokens");
        var reached = rows.FirstOrDefault(r => r.Overlap >= OverlapTarget);
        if (reached is null)
        {
            console.MarkupLine($"overlap never reached {OverlapTarget:P0} in the sweep (largest chunk {rows[^1].Chunk} tokens): the measured threshold lies above it, no ratio to check");
            return;
        }

        console.MarkupLine($"measured: overlap first ≥ {OverlapTarget:P0} at chunk c = {reached.Chunk} tokens (N = {reached.Seq})");
        var past = rows.Where(r => r.Chunk >= reached.Chunk).ToList();
        var worst = past.Max(r => r.ClusterWall / r.LocalWall);
        console.MarkupLine(
            $"cluster / one-process wall from c = {reached.Chunk} on: worst {worst:F2} (target ≤ {WallRatioTarget:F1}: {(worst <= WallRatioTarget ? "met" : "NOT met")})");
        var check = OverlapThresholdCheck.CompareWithClusterBenchmark(profile, reached.Chunk, ElementType.Fp32, settings.Heads, settings.KvHeads);
        console.MarkupLine(
            $"OverlapThresholdCheck: measured / predicted = {check.Ratio:F2} → {(check.Agrees ? "agrees" : "does not agree")} within a factor of {check.Factor:F0}");
    }

    /// <summary>FLOP/s of <see cref="BlockwiseAttention"/> on one thread, on a 2048-token problem of the swept head shape (best of 3).</summary>
    private static double KernelRate(Settings settings)
    {
        var input = AttentionInput.Random(new AttentionShape(1, settings.Heads, settings.KvHeads, 2048, settings.Dim), seed: 1);
        var options = new AttentionOptions(Causal: false, Threads: 1);
        var flops = BlockwiseAttention.Compute(input, options).Work.Flops;
        var best = double.MaxValue;
        for (var r = 0; r < 3; r++)
        {
            var watch = Stopwatch.StartNew();
            BlockwiseAttention.Compute(input, options);
            best = System.Math.Min(best, watch.Elapsed.TotalSeconds);
        }

        return flops / best;
    }
}
