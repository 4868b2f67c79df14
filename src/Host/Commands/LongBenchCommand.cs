using System.ComponentModel;
using System.Globalization;
using Akka.Actor;
using RingActors.Actors;
using RingActors.Host.Cli;
using RingActors.Host.Plots;
using RingActors.Host.Reporting;
using RingActors.Math;
using RingActors.Math.Masks;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RingActors.Host.Commands;

/// <summary>
/// <c>ringactors bench long</c>: the ring of local devices for N doubling from --min-seq to --max-seq (full attention up to
/// --full-up-to, a sliding window beyond, where full attention would take too long), each N with the ring's time (median of
/// --repeats runs after a warm-up), the process's peak resident set (VmHWM, reset before each N), each device's peak resident
/// bytes over the 6·b·c·h law, and the dense and blockwise baselines' memory beyond the inputs: measured (VmHWM over the
/// resident set before it) where they fit and are asked for, computed where not. --plot draws memory against N.
/// </summary>
public sealed class LongBenchCommand(IAnsiConsole console) : AsyncCommand<LongBenchCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--min-seq <N>")]
        [DefaultValue(8192)]
        [Description("Shortest sequence; N doubles from it to --max-seq.")]
        public int MinSeq { get; init; } = 8192;

        [CommandOption("--max-seq <N>")]
        [DefaultValue(1048576)]
        [Description("Longest sequence.")]
        public int MaxSeq { get; init; } = 1048576;

        [CommandOption("--full-up-to <N>")]
        [DefaultValue(65536)]
        [Description("Full attention up to this N; beyond it the ring runs a sliding window of --window keys (causal-window:W when causal, window:W not).")]
        public int FullUpTo { get; init; } = 65536;

        [CommandOption("--window <W>")]
        [DefaultValue(1024)]
        [Description("Window of the sparse ring beyond --full-up-to.")]
        public int Window { get; init; } = 1024;

        [CommandOption("--dense-up-to <N>")]
        [DefaultValue(16384)]
        [Description("Dense attention is run (memory measured) up to this N when it fits; beyond, its memory is computed.")]
        public int DenseUpTo { get; init; } = 16384;

        [CommandOption("--devices <P>")]
        [DefaultValue(8)]
        public int Devices { get; init; } = 8;

        [CommandOption("--heads <H>")]
        [DefaultValue(1)]
        public int Heads { get; init; } = 1;

        [CommandOption("--kv-heads <HKV>")]
        [DefaultValue(1)]
        public int KvHeads { get; init; } = 1;

        [CommandOption("--dim <D>")]
        [DefaultValue(32)]
        public int Dim { get; init; } = 32;

        [CommandOption("--causal")]
        [Description("Causal mask (the default).")]
        public bool Causal { get; init; }

        [CommandOption("--no-causal")]
        [Description("No causal mask (bidirectional).")]
        public bool NoCausal { get; init; }

        [CommandOption("--repeats <R>")]
        [DefaultValue(3)]
        [Description("Timed ring runs per N (≥ 3) after a warm-up; the median and spread are printed.")]
        public int Repeats { get; init; } = 3;

        [CommandOption("--plot <FILE>")]
        [Description("Draw memory against N for dense, blockwise and the ring to FILE.png or FILE.svg.")]
        public string? Plot { get; init; }

        public bool IsCausal => !NoCausal;

        /// <summary>The first N of the sweep that runs the sliding window (beyond --full-up-to), or null when none does.</summary>
        private long? FirstSparseLength()
        {
            for (var n = (long)MinSeq; n <= MaxSeq; n *= 2)
            {
                if (n > FullUpTo)
                {
                    return n;
                }
            }

            return null;
        }

        public override Spectre.Console.ValidationResult Validate()
        {
            var error = MaskWords.Conflict(Causal, NoCausal)
                ?? (MinSeq < 1 || MaxSeq < MinSeq ? $"--min-seq and --max-seq must satisfy 1 ≤ min ≤ max, got {MinSeq} and {MaxSeq}" : null)
                ?? (Devices < 1 || Devices > MinSeq ? $"--devices must be in 1..--min-seq ({MinSeq}), got {Devices}" : null)
                ?? (Window < 1 ? $"--window must be ≥ 1, got {Window}" : null)
                ?? (Repeats < 3 ? $"--repeats must be ≥ 3 (a time is the median of at least 3 runs), got {Repeats}" : null)
                ?? OptionLimits.Whole("--repeats", Repeats, 3, OptionLimits.MaxRepeats)
                ?? OptionLimits.Whole("--devices", Devices, 1, OptionLimits.MaxDevices)
                ?? OptionLimits.Whole("--full-up-to", FullUpTo, 0, int.MaxValue)
                ?? OptionLimits.Whole("--dense-up-to", DenseUpTo, 0, int.MaxValue)
                ?? (FirstSparseLength() is { } sparse && Window > sparse ? $"--window ({Window}) must not exceed the first N beyond --full-up-to ({sparse})" : null)
                ?? (Plot is not null && Path.GetExtension(Plot).ToUpperInvariant() is not (".PNG" or ".SVG") ? $"--plot must name a .png or .svg file, got '{Plot}'" : null);
            if (error is null)
            {
                try
                {
                    new AttentionShape(1, Heads, KvHeads, MaxSeq, Dim).Validate();
                }
                catch (ArgumentException shape)
                {
                    error = UserError.WithoutParameter(shape);
                }
            }

            return error is null ? base.Validate() : Spectre.Console.ValidationResult.Error(error);
        }
    }

    /// <summary>One N of the sweep.</summary>
    private sealed record Point(
        int SeqLen, string Ring, Timing RingTime, long? ProcessPeak, long DevicePeak, long Law, long DenseBytes, bool DenseMeasured, bool DenseFits, long BlockwiseBytes, bool BlockwiseMeasured);

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var mask = MaskWords.Name(settings.IsCausal);
        console.MarkupLine(Markup.Escape($"mask {mask}: bench long, ring of {settings.Devices} devices (zigzag), H={settings.Heads} Hkv={settings.KvHeads} d={settings.Dim}, "
            + $"N = {settings.MinSeq:N0} … {settings.MaxSeq:N0}, full attention up to {settings.FullUpTo:N0}, then {Window(settings)}; median of {settings.Repeats} runs after a warm-up"));
        var system = LocalActorSystem.Create("ringbench-long");
        var points = new List<Point>();
        try
        {
            for (var n = (long)settings.MinSeq; n <= settings.MaxSeq; n *= 2)
            {
                points.Add(await Measure(system, settings, (int)n, cancellationToken));
                console.MarkupLine(Markup.Escape($"… N = {n:N0} done"));
            }
        }
        finally
        {
            await system.Terminate();
        }

        console.Write(Render(settings, points));
        if (settings.Plot is { } plot)
        {
            MemoryPlot.Save(
                [
                    new MemorySeries("dense (N×N scores)", points.Select(p => (p.SeqLen, (double)p.DenseBytes, p.DenseMeasured)).ToList()),
                    new MemorySeries("blockwise, one process", points.Select(p => (p.SeqLen, (double)p.BlockwiseBytes, p.BlockwiseMeasured)).ToList()),
                    new MemorySeries("ring, per device", points.Select(p => (p.SeqLen, (double)p.DevicePeak, true)).ToList()),
                    new MemorySeries("6·b·c·h law (fp32)", points.Select(p => (p.SeqLen, (double)p.Law, false)).ToList()),
                ],
                plot,
                $"memory beyond the inputs against N, {settings.Devices} devices, d={settings.Dim}, mask {mask} (filled: measured, hollow: computed)");
            console.MarkupLine($"plot written to [bold]{Markup.Escape(plot)}[/]");
        }

        return 0;
    }

    private static string Window(Settings settings) => settings.IsCausal ? $"causal-window:{settings.Window}" : $"window:{settings.Window}";

    private static async Task<Point> Measure(ActorSystem system, Settings settings, int n, CancellationToken cancellationToken)
    {
        var shape = new AttentionShape(1, settings.Heads, settings.KvHeads, n, settings.Dim).Validate();
        Collect();
        SystemMemory.ResetPeak();
        var input = AttentionInput.Random(shape, seed: n);
        AttentionPattern? pattern = n > settings.FullUpTo ? PatternSpec.Parse(Window(settings), new PatternContext(n, 0, settings.IsCausal)) : null;
        var job = new RingJobSettings(settings.Devices, LayoutKind.Zigzag, settings.IsCausal, pattern, ThreadsPerDevice: 1);
        await RingRunner.RunAsync(system, input, job, null, cancellationToken); // warm-up of the same path
        var runs = new List<RingResult>();
        for (var r = 0; r < settings.Repeats; r++)
        {
            runs.Add(await RingRunner.RunAsync(system, input, job, null, cancellationToken));
        }

        var processPeak = SystemMemory.PeakResident();
        var devicePeak = runs.Max(run => run.PeakResidentBytesPerDevice);
        var ringTime = Timing.Of(runs.Select(run => run.RingTime));
        var chunk = Enumerable.Range(0, settings.Devices).Max(new SequenceLayout(LayoutKind.Zigzag, n, settings.Devices).Count);
        runs.Clear();

        var options = new AttentionOptions(settings.IsCausal, pattern, null, Environment.ProcessorCount);
        var denseFits = JobMemory.DenseScoresFitOneArray(shape) && (SystemMemory.Available() ?? long.MaxValue) > JobMemory.DenseBytes(shape) + JobMemory.RuntimeAllowance;
        var (denseBytes, denseMeasured) = n <= settings.DenseUpTo && denseFits
            ? (Delta(() => DenseAttention.Compute(input, options with { Pattern = null })), true)
            : (JobMemory.DenseBytes(shape), false);
        var blockwiseBytes = Delta(() => pattern is null ? BlockwiseAttention.Compute(input, options).Result : SparseAttention.Compute(input, options).Result);
        return new Point(
            n, pattern?.Name ?? "full", ringTime, processPeak, devicePeak, JobMemory.LawBytesPerDevice(shape, chunk),
            denseBytes, denseMeasured, denseFits, blockwiseBytes, true);
    }

    /// <summary>Peak resident bytes a computation adds to the process: VmHWM during it over the resident set before it.</summary>
    private static long Delta(Func<object> work)
    {
        Collect();
        SystemMemory.ResetPeak();
        var before = SystemMemory.Resident() ?? 0;
        GC.KeepAlive(work());
        return System.Math.Max(0, (SystemMemory.PeakResident() ?? 0) - before);
    }

    private static void Collect()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
    }

    private static Table Render(Settings settings, IReadOnlyList<Point> points)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"mask {MaskWords.Name(settings.IsCausal)}: long context on one machine, {settings.Devices} devices, d={settings.Dim}")
            .Caption("ring time: median (min–max) of the timed runs; process peak: VmHWM, reset before each N; per device: the largest device's peak resident bytes, "
                + "law = 6·b·c·h elements of 4 bytes (1 Q, 2 current + 2 incoming K/V, 1 O block; K/V at Hkv heads); dense and blockwise: bytes beyond the inputs, "
                + "measured (VmHWM over the resident set before) or computed (*)");
        table.AddColumns("N", "ring", "ring time", "process peak RSS", "per device", "6·b·c·h law", "measured / law", "dense", "blockwise");
        foreach (var p in points)
        {
            table.AddRow(
                p.SeqLen.ToString("N0", CultureInfo.InvariantCulture),
                Markup.Escape(p.Ring),
                Markup.Escape(RunReportView.Time(p.RingTime, p.RingTime.Median)),
                p.ProcessPeak is { } peak ? Units.Bytes(peak) : "–",
                Units.Bytes(p.DevicePeak),
                Units.Bytes(p.Law),
                Units.Ratio((double)p.DevicePeak / p.Law),
                Markup.Escape(p.DenseMeasured ? Units.Bytes(p.DenseBytes) : p.DenseFits ? $"{Units.Bytes(p.DenseBytes)} *" : $"does not fit: needs {JobMemory.GiB(p.DenseBytes)} *"),
                Units.Bytes(p.BlockwiseBytes));
        }

        return table;
    }
}
