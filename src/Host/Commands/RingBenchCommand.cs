using System.ComponentModel;
using System.Diagnostics;
using Akka.Actor;
using RingActors.Actors;
using RingActors.Host.Reporting;
using RingActors.Math;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RingActors.Host.Commands;

/// <summary>
/// <c>ringactors bench ring</c>: the ring of P local device actors against the best single-process blockwise kernel on the
/// same input, in one run, as a ratio (target ≤ 1.15: the actors should cost almost nothing), and the per-step cost of the
/// protocol itself measured on a ring whose compute is negligible.
/// </summary>
public sealed class RingBenchCommand(IAnsiConsole console) : AsyncCommand<RingBenchCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--seq <N>")]
        [DefaultValue(4096)]
        public int Seq { get; init; } = 4096;

        [CommandOption("--devices <P>")]
        [DefaultValue(4)]
        public int Devices { get; init; } = 4;

        [CommandOption("--repetitions <R>")]
        [Description("Timed runs per cell; the best is reported.")]
        [DefaultValue(5)]
        public int Repetitions { get; init; } = 5;

        [CommandOption("--causal")]
        [Description("Causal mask (the default): contiguous and zigzag layouts are measured.")]
        public bool Causal { get; init; }

        [CommandOption("--no-causal")]
        [Description("No causal mask (bidirectional): the zigzag layout is measured.")]
        public bool NoCausal { get; init; }

        [CommandOption("--backward")]
        [Description("Also measure the backward pass: the ring's backward against the single-process backward kernel (target ≤ 1.15).")]
        public bool Backward { get; init; }

        public bool IsCausal => !NoCausal;

        public override Spectre.Console.ValidationResult Validate()
        {
            var error = Cli.MaskWords.Conflict(Causal, NoCausal)
                ?? (Repetitions <= 0 ? $"--repetitions must be ≥ 1, got {Repetitions}" : null)

                // The protocol table runs ten times as many repetitions: bounded, that product cannot overflow.
                ?? Cli.OptionLimits.Whole("--repetitions", Repetitions, 1, Cli.OptionLimits.MaxRepeats)
                ?? (Devices <= 0 ? $"--devices must be ≥ 1, got {Devices}" : null)
                ?? Cli.OptionLimits.Whole("--devices", Devices, 1, Cli.OptionLimits.MaxDevices)
                ?? (Seq < Devices ? $"--seq ({Seq}) must be at least --devices ({Devices})" : null);
            if (error is null)
            {
                try
                {
                    new AttentionShape(1, 8, 2, Seq, 64).Validate();
                }
                catch (ArgumentException shape)
                {
                    error = Cli.UserError.WithoutParameter(shape);
                }
            }

            return error is null ? base.Validate() : Spectre.Console.ValidationResult.Error(error);
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var system = Cli.LocalActorSystem.Create("ringbench");
        try
        {
            var threads = Environment.ProcessorCount;
            var table = new Table().Border(TableBorder.Rounded)
                .Title($"mask {Cli.MaskWords.Name(settings.IsCausal)}: ring of {settings.Devices} local devices vs the single-process kernel on {threads} thread(s), B=1 H=8 Hkv=2 N={settings.Seq} d=64; best of {settings.Repetitions}")
                .Caption("ring time: from the supervisor starting the ring to the last device's result (wall time adds splitting and reassembly)");
            table.AddColumns("mask", "layout", "single-process kernel", "ring (ring time)", "ring (wall time)", "ring / kernel", "wall / kernel");
            var shape = new AttentionShape(1, 8, 2, settings.Seq, 64);
            var input = AttentionInput.Random(shape, seed: 1);
            foreach (var causal in new[] { settings.IsCausal })
            {
                var kernel = Best(settings.Repetitions, () => BlockwiseAttention.Compute(input, new AttentionOptions(Causal: causal, Threads: threads)));
                foreach (var layout in causal ? new[] { LayoutKind.Contiguous, LayoutKind.Zigzag } : [LayoutKind.Zigzag])
                {
                    var job = new RingJobSettings(settings.Devices, layout, causal, ThreadsPerDevice: 1);
                    var (ringTime, wallTime) = await BestRing(system, input, job, settings.Repetitions, cancellationToken);
                    table.AddRow(
                        Cli.MaskWords.Name(causal),
                        SequenceLayout.NameOf(layout),
                        Units.Seconds(kernel),
                        Units.Seconds(ringTime),
                        Units.Seconds(wallTime),
                        Units.Ratio(ringTime / kernel),
                        Units.Ratio(wallTime / kernel));
                }
            }

            console.Write(table);
            if (settings.Backward)
            {
                console.Write(await BackwardTable(system, input, settings, threads, cancellationToken));
            }

            console.Write(await ProtocolOverhead(system, settings, cancellationToken));
            return 0;
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>
    /// The backward ring (its ring time from the backward's start to the last device's gradients) against the single-process
    /// backward kernel on the same input, dO and forward result: the ratio the target (≤ 1.15) is about.
    /// </summary>
    private static async Task<Table> BackwardTable(ActorSystem system, AttentionInput input, Settings settings, int threads, CancellationToken cancellationToken)
    {
        var shape = input.Shape;
        var outputGradient = AttentionInput.RandomOutputGradient(shape, seed: 3);
        var heads = AttentionHeads.Of(shape);
        var positions = Enumerable.Range(0, shape.SeqLen).ToArray();
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"backward: ring of {settings.Devices} local devices vs the single-process backward kernel on {threads} thread(s); best of {settings.Repetitions}, the two taking turns")
            .Caption("backward ring time: from the backward's start to the last device's gradients; target ring / kernel ≤ 1.15");
        table.AddColumns("mask", "layout", "backward kernel", "backward ring", "ring / kernel", "target ≤ 1.15");
        var causal = settings.IsCausal;
        var options = new AttentionOptions(Causal: causal, Threads: threads);
        var (forward, _) = BlockwiseAttention.Compute(input, options);
        var rows = BackwardRows.Create(new QueryChunk(input.Q, positions), outputGradient, forward);
        var block = new KeyValueBlock(input.K, input.V, positions);
        // The gradient accumulators are allocated once and cleared outside the timed region (12 MiB on the default job),
        // as bench kernels times the backward kernel.
        var queryGradient = new float[shape.QueryLength];
        var blockGradients = KeyValueGradients.Zero(heads, shape.SeqLen);
        void Kernel() => BlockwiseBackward.Accumulate(rows, block, heads, options, queryGradient, blockGradients);
        void ClearGradients()
        {
            Array.Clear(queryGradient);
            Array.Clear(blockGradients.Keys);
            Array.Clear(blockGradients.Values);
        }

        foreach (var layout in causal ? new[] { LayoutKind.Contiguous, LayoutKind.Zigzag } : [LayoutKind.Zigzag])
        {
            var job = new RingJobSettings(settings.Devices, layout, causal, ThreadsPerDevice: 1) { Backward = new BackwardPass(outputGradient) };
            Kernel(); // warm-up
            await RingRunner.RunAsync(system, input, job, null, cancellationToken);

            // Kernel and ring take turns, so that both see the same machine (the kernel alone moved by 30% between runs).
            double kernel = double.MaxValue, ring = double.MaxValue;
            for (var r = 0; r < settings.Repetitions; r++)
            {
                ClearGradients();
                var watch = Stopwatch.StartNew();
                Kernel();
                kernel = System.Math.Min(kernel, watch.Elapsed.TotalSeconds);
                var result = await RingRunner.RunAsync(system, input, job, null, cancellationToken);
                ring = System.Math.Min(ring, result.BackwardRingTime.TotalSeconds);
            }

            table.AddRow(
                Cli.MaskWords.Name(causal),
                SequenceLayout.NameOf(layout),
                Units.Seconds(kernel),
                Units.Seconds(ring),
                Units.Ratio(ring / kernel),
                ring / kernel <= 1.15 ? "met" : "NOT met");
        }

        return table;
    }

    /// <summary>A ring with next to no compute (N = 16·P, d = 8, one head): what is left per step is the cost of the protocol.</summary>
    private static async Task<Table> ProtocolOverhead(ActorSystem system, Settings settings, CancellationToken cancellationToken)
    {
        var p = settings.Devices;
        var input = AttentionInput.Random(new AttentionShape(1, 1, 1, 16 * p, 8), seed: 2);
        var job = new RingJobSettings(p, LayoutKind.Contiguous, Causal: false, ThreadsPerDevice: 1);
        var kernel = Best(settings.Repetitions * 10, () => BlockwiseAttention.Compute(input, new AttentionOptions()));
        var (ringTime, wallTime) = await BestRing(system, input, job, settings.Repetitions * 10, cancellationToken);
        var table = new Table().Border(TableBorder.Rounded).Title($"protocol overhead: ring of {p} devices with negligible compute (N={16 * p}, d=8)");
        table.AddColumns("ring time", "per ring step", "per hand-off", "whole kernel in one process");
        table.AddRow(
            Units.Seconds(ringTime),
            Units.Seconds(ringTime / p),
            Units.Seconds(p > 1 ? ringTime / (p * (p - 1)) : double.NaN),
            Units.Seconds(kernel));
        _ = wallTime;
        return table;
    }

    private static async Task<(double Ring, double Wall)> BestRing(ActorSystem system, AttentionInput input, RingJobSettings job, int repetitions, CancellationToken cancellationToken)
    {
        await RingRunner.RunAsync(system, input, job, null, cancellationToken); // warm-up: JIT, pooled buffers
        double ring = double.MaxValue, wall = double.MaxValue;
        for (var r = 0; r < repetitions; r++)
        {
            var result = await RingRunner.RunAsync(system, input, job, null, cancellationToken);
            ring = System.Math.Min(ring, result.RingTime.TotalSeconds);
            wall = System.Math.Min(wall, result.WallTime.TotalSeconds);
        }

        return (ring, wall);
    }

    private static double Best(int repetitions, Action action)
    {
        action();
        var best = double.MaxValue;
        for (var r = 0; r < repetitions; r++)
        {
            var watch = Stopwatch.StartNew();
            action();
            best = System.Math.Min(best, watch.Elapsed.TotalSeconds);
        }

        return best;
    }
}
