using System.ComponentModel;
using Akka.Actor;
using RingActors.Actors;
using RingActors.Actors.Protocol;
using RingActors.Host.Cli;
using RingActors.Host.Reporting;
using RingActors.Math;
using RingActors.Math.Masks;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RingActors.Host.Commands;

/// <summary>
/// <c>ringactors run</c>: the ring of device actors in this process on seeded random inputs (or on .npy files), its
/// output compared with dense attention and with sparse baselines, printed as tables and optionally written as JSON.
/// </summary>
public sealed class RunCommand(IAnsiConsole console) : AsyncCommand<RunCommand.Settings>
{
    /// <summary>Baselines of the embedded default: a sliding window and BigBird, narrowed for sequences too short for them.</summary>
    public static string[] DefaultBaselines(int seqLen)
    {
        var block = System.Math.Min(64, seqLen);
        var blocks = (seqLen + block - 1) / block;
        return [$"window:{System.Math.Min(512, seqLen)}", $"bigbird:{block}:{System.Math.Min(2, blocks)}:{System.Math.Min(3, blocks)}"];
    }

    public sealed class Settings : ClusterJobSettings
    {
        [CommandOption("--pattern <SPEC>")]
        [Description("A sparse baseline to compare the ring with, repeatable (default: window:512 and bigbird:64:2:3, narrowed when N is shorter). 'none' for no sparse baseline.")]
        public string[] Patterns { get; init; } = [];

        [CommandOption("--verify <MODE>")]
        [Description("Check the ring against the float64 tiled reference: full, rows:K (K sampled rows, every device's boundaries, first and last tokens, rows that attend nothing) or none. Default: full when predicted to cost no more than the ring, else rows:4096.")]
        public string? Verify { get; init; }

        [CommandOption("--repeats <R>")]
        [Description("Timed runs behind every time (≥ 3), each measurement after a warm-up; the report gives the median and spread.")]
        [DefaultValue(3)]
        public int Repeats { get; init; } = 3;

        [CommandOption("--memory-limit <BYTES>")]
        [Description("Bytes the job may use, when less than the OS says is available (MemAvailable, cgroup limit): a job that needs more is refused, a baseline that needs more is reported as not fitting.")]
        public long? MemoryLimit { get; init; }

        [CommandOption("--no-scaling")]
        [Description("Skip the N/2 runs of the scalability column.")]
        public bool NoScaling { get; init; }

        [CommandOption("--json <FILE>")]
        [Description("Write the whole report as JSON.")]
        public string? Json { get; init; }

        [CommandOption("--timeline <FILE>")]
        [Description("Draw the run's timeline as a Gantt chart to FILE.png or FILE.svg: the wall clock, or the virtual clock with --profile.")]
        public string? Timeline { get; init; }

        [CommandOption("--trace <FILE>")]
        [Description("Write the run's timeline in the Chrome trace event format to FILE.json (Perfetto opens it): the wall clock, or the virtual clock with --profile; with --cluster the coordinator's clock, each node's devices aligned to it by their start's round trip.")]
        public string? Trace { get; init; }

        [CommandOption("--profile <NAME>")]
        [Description("Also keep a virtual clock on this modelled device (a built-in profile, or 'local' measured now): the report gives the predicted time on it and --timeline draws it.")]
        public string? Profile { get; init; }

        [CommandOption("--calibrate")]
        [Description("Predict this run with profiles of this machine (calibrated from the run itself, and 'local' measured now) and print predicted vs measured time and their ratio.")]
        public bool Calibrate { get; init; }

        [CommandOption("--out <FILE>")]
        [Description("Write the ring's output as a float32 .npy file in q's layout, only when the ring is verified exact (see --keep-inexact).")]
        public string? Out { get; init; }

        [CommandOption("--keep-inexact")]
        [Description("Write --out (and --dq, --dk, --dv) even when the ring is not exact or not verified (--verify none), and say so in one line.")]
        public bool KeepInexact { get; init; }

        [CommandOption("--dq <FILE>")]
        [Description("With --backward: write dQ as a float32 .npy file in q's layout, only when output and gradients are verified exact (see --keep-inexact).")]
        public string? Dq { get; init; }

        [CommandOption("--dk <FILE>")]
        [Description("With --backward: write dK as a float32 .npy file in k's layout, as --dq.")]
        public string? Dk { get; init; }

        [CommandOption("--dv <FILE>")]
        [Description("With --backward: write dV as a float32 .npy file in k's layout, as --dq.")]
        public string? Dv { get; init; }

        /// <summary>The files this run writes besides the report, with the option that names each.</summary>
        internal IEnumerable<(string Option, string Path)> OutputFiles() =>
            new[] { ("--out", Out), ("--dq", Dq), ("--dk", Dk), ("--dv", Dv) }.Where(f => f.Item2 is not null).Select(f => (f.Item1, f.Item2!));

        private bool GradientFiles => Dq is not null || Dk is not null || Dv is not null;

        public override Spectre.Console.ValidationResult Validate()
        {
            if (Verify is not null)
            {
                try
                {
                    Math.Verification.VerifyMode.Parse(Verify);
                }
                catch (ArgumentException error)
                {
                    return Spectre.Console.ValidationResult.Error(UserError.WithoutParameter(error));
                }
            }

            if (GradientFiles && !Backward)
            {
                return Spectre.Console.ValidationResult.Error("--dq, --dk and --dv need --backward: they are the gradients of the backward pass");
            }

            if (KeepInexact && Out is null && !GradientFiles)
            {
                return Spectre.Console.ValidationResult.Error("--keep-inexact needs --out (or --dq, --dk, --dv): it is about writing the ring's results");
            }

            var files = OutputFiles().ToList();
            if (files.Select(f => Path.GetFullPath(f.Path)).Distinct().Count() < files.Count)
            {
                return Spectre.Console.ValidationResult.Error($"{string.Join(", ", files.Select(f => f.Option))} must name different files");
            }

            // Refused before the ring runs, not after: an output nobody checked would be written as if it were correct.
            if (files.Count > 0 && !KeepInexact && Verify is { } verify && Math.Verification.VerifyMode.Parse(verify).Kind == Math.Verification.VerifyKind.None)
            {
                return Spectre.Console.ValidationResult.Error($"{files[0].Option} with --verify none would write an output nobody checked: verify it, or add --keep-inexact");
            }

            if (MemoryLimit is <= 0)
            {
                return Spectre.Console.ValidationResult.Error($"--memory-limit must be ≥ 1 byte, got {MemoryLimit}");
            }

            if (Repeats < 3)
            {
                return Spectre.Console.ValidationResult.Error($"--repeats must be ≥ 3 (a time is the median of at least 3 runs), got {Repeats}");
            }

            if (OptionLimits.Whole("--repeats", Repeats, 3, OptionLimits.MaxRepeats) is { } repeats)
            {
                return Spectre.Console.ValidationResult.Error(repeats);
            }

            if (Timeline is not null && Path.GetExtension(Timeline).ToUpperInvariant() is not (".PNG" or ".SVG"))
            {
                return Spectre.Console.ValidationResult.Error($"--timeline must name a .png or .svg file, got '{Timeline}'");
            }

            if (Trace is not null && !string.Equals(Path.GetExtension(Trace), ".json", StringComparison.OrdinalIgnoreCase))
            {
                return Spectre.Console.ValidationResult.Error($"--trace must name a .json file, got '{Trace}'");
            }

            if (Cluster && (Profile is not null || Calibrate))
            {
                return Spectre.Console.ValidationResult.Error("--profile and --calibrate run in one process only, not with --cluster");
            }

            if (Cluster && RingPattern is { } spec && spec.TrimStart().StartsWith("topk", StringComparison.OrdinalIgnoreCase))
            {
                return Spectre.Console.ValidationResult.Error("--ring-pattern topk cannot run on a cluster: it is built from the whole input, which device nodes do not have");
            }

            return base.Validate();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        // The memory is known before anything is allocated: a job that cannot fit is refused before its inputs exist.
        var available = settings.MemoryLimit is { } limit ? System.Math.Min(limit, SystemMemory.Available() ?? long.MaxValue) : SystemMemory.Available();
        if (settings.Q is null)
        {
            RefuseIfTooLarge(settings, settings.Shape(), available);
        }

        // An output that cannot be written is refused before anything is computed, with the reason in one line.
        foreach (var (option, path) in settings.OutputFiles())
        {
            NpyInputs.CheckWritable(option, path);
        }

        var (input, files) = settings.Q is null
            ? (AttentionInput.Random(settings.Shape(), settings.Seed), null)
            : NpyInputs.Load(settings.Q, settings.K!, settings.V!);
        if (settings.Q is not null)
        {
            // The files' shape is known once read; the memory they took was available before, as the estimate counts it.
            RefuseIfTooLarge(settings, input.Shape, available);
        }

        var job = JobFrom(settings, input).Validate(input.Shape);
        if (settings.Profile is { } profileName)
        {
            var profile = string.Equals(profileName.Trim(), Math.Modelling.ProfileCatalog.LocalName, StringComparison.OrdinalIgnoreCase)
                ? PlanLocalProfile.Measure(job.Devices, PlanLocalProfile.DefaultHost(job.ThreadsPerDevice)).Profile
                : Math.Modelling.ProfileCatalog.Get(profileName);
            job = job with { VirtualTime = new VirtualTimeSettings(profile) };
        }

        var baselines = Baselines(settings, input, available);
        if (settings.Cluster)
        {
            return await ClusterRun.ExecuteAsync(console, settings, input, files, job, baselines, RunWithProgress, cancellationToken);
        }

        var system = LocalActorSystem.Create("ringactors");
        try
        {
            var report = await RunWithProgress(system, input, job, baselines, settings, cancellationToken);
            console.Write(RunReportView.Render(report));
            report = await RunTimelineView.WriteAsync(console, system, input, report, settings.Timeline, settings.Calibrate, cancellationToken, settings.Trace);
            return WriteOutputs(console, settings, report, input, files);
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>Throws a one-line <see cref="UserInputException"/> when the job's estimated memory exceeds <paramref name="available"/> bytes.</summary>
    internal static void RefuseIfTooLarge(Settings settings, AttentionShape shape, long? available)
    {
        if (available is not { } bytes || settings.Devices > shape.SeqLen)
        {
            return; // unknown memory, or a job that Validate refuses anyway with its own message
        }

        var memory = JobMemory.Estimate(shape, settings.Devices, !settings.NoScaling, settings.ThreadCount, settings.Backward, settings.ThreadsPerDevice ?? 1);
        if (memory.Shortfall(bytes) is { } refusal)
        {
            throw new UserInputException(refusal);
        }
    }

    /// <summary>Writes --json and --out of a finished run (local or on a cluster); the exit code says whether the ring was exact.</summary>
    internal static int WriteOutputs(IAnsiConsole console, Settings settings, RunOutcome outcome, AttentionInput input, FileLayout? files)
    {
        if (settings.Json is { } json)
        {
            RunReportJson.Write(json, outcome);
            console.MarkupLine($"report written to [bold]{Markup.Escape(json)}[/]");
        }

        var precision = outcome.Precision;
        var forwardExact = Verdicts.OutputExact(outcome.Report, precision);
        if (settings.Out is { } output)
        {
            var verdict = OutputVerdictOf(forwardExact, outcome.Report.Verification?.Result is not null, settings.KeepInexact);
            if (verdict != OutputVerdict.Withheld)
            {
                NpyInputs.WriteOutput(output, outcome.Output, input.Shape, files);
            }

            console.MarkupLine(Markup.Escape(verdict switch
            {
                OutputVerdict.Exact => $"ring output written to {output}",
                OutputVerdict.KeptUnverified => $"ring output written to {output} unverified (--verify none, --keep-inexact)",
                OutputVerdict.KeptInexact => $"ring output written to {output} although the ring is NOT exact ({Deviation(outcome.Report, precision)}; --keep-inexact)",
                _ => $"ring output NOT written to {output}: the ring is NOT exact ({Deviation(outcome.Report, precision)}); --keep-inexact writes it anyway",
            }));
        }

        var gradients = outcome.Gradients;
        if (gradients is not null && outcome.Ring?.Gradients is { } computed)
        {
            WriteGradients(console, settings, gradients, computed, input.Shape, files);
        }

        // Exit 1 only for a ring found inexact: an unverified ring (--verify none) has nothing against it.
        var unverified = outcome.Report.Verification is { Mode: "none" };
        return unverified || (forwardExact && gradients is not { Errors: not null, Exact: false }) ? 0 : 1;
    }

    /// <summary>--dq, --dk and --dv: all written (renamed into place together) when the gradients are verified exact, or kept with --keep-inexact.</summary>
    private static void WriteGradients(IAnsiConsole console, Settings settings, GradientVerification verification, AttentionGradients gradients, AttentionShape shape, FileLayout? files)
    {
        var wanted = new List<(string Path, float[] Data, int[] Shape)>();
        if (settings.Dq is { } dq)
        {
            wanted.Add((dq, gradients.Queries, NpyInputs.QueryLayout(shape, files)));
        }

        if (settings.Dk is { } dk)
        {
            wanted.Add((dk, gradients.Keys, NpyInputs.KeyLayout(shape, files)));
        }

        if (settings.Dv is { } dv)
        {
            wanted.Add((dv, gradients.Values, NpyInputs.KeyLayout(shape, files)));
        }

        if (wanted.Count == 0)
        {
            return;
        }

        var names = string.Join(", ", wanted.Select(w => w.Path));
        var verdict = OutputVerdictOf(verification.Exact, verification.Errors is not null, settings.KeepInexact);
        if (verdict != OutputVerdict.Withheld)
        {
            NpyInputs.WriteAll(wanted);
        }

        var deviation = GradientDeviation(verification);
        console.MarkupLine(Markup.Escape(verdict switch
        {
            OutputVerdict.Exact => $"gradients written to {names}",
            OutputVerdict.KeptUnverified => $"gradients written to {names} unverified (--verify none, --keep-inexact)",
            OutputVerdict.KeptInexact => $"gradients written to {names} although they are NOT exact ({deviation}; --keep-inexact)",
            _ => $"gradients NOT written to {names}: they are NOT exact ({deviation}); --keep-inexact writes them anyway",
        }));
    }

    private static string GradientDeviation(GradientVerification verification) =>
        verification.Errors is { } e
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"relative error dQ {e.Queries.RelativeError:G3}, dK {e.Keys.RelativeError:G3}, dV {e.Values.RelativeError:G3} against ≤ {verification.Tolerance:0e+0} ({PrecisionWords.Name(verification.Precision)})")
            : "not verified";

    /// <summary>What becomes of --out after a run.</summary>
    internal enum OutputVerdict
    {
        /// <summary>Verified exact: written.</summary>
        Exact,

        /// <summary>Not exact, written because --keep-inexact asked for it.</summary>
        KeptInexact,

        /// <summary>Not verified (--verify none), written because --keep-inexact asked for it.</summary>
        KeptUnverified,

        /// <summary>Not verified exact: not written, since a file of the ring's output would be taken for a correct one.</summary>
        Withheld,
    }

    /// <summary>A result is written only when verified exact, unless <paramref name="keepInexact"/>.</summary>
    internal static OutputVerdict OutputVerdictOf(bool exact, bool verified, bool keepInexact) =>
        exact ? OutputVerdict.Exact
        : !keepInexact ? OutputVerdict.Withheld
        : !verified ? OutputVerdict.KeptUnverified
        : OutputVerdict.KeptInexact;

    private static string Deviation(JobReport report, PartialPrecision precision) =>
        report.Verification?.Result is { } result
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"relative error {result.Error.RelativeError:G3} against ≤ {Verdicts.Output(precision):0e+0}, worst row {result.WorstRowError:G3} against ≤ {Verdicts.Row(precision):0e+0}{(precision == PartialPrecision.Bf16 ? " (bf16)" : string.Empty)}")
            : "not verified";

    internal static RingJobSettings JobFrom(JobSettings settings, AttentionInput input) =>
        Job(input, settings.Devices, settings.Layout, settings.IsCausal, settings.RingPattern, settings.Seed, settings.ThreadsPerDevice, settings.Deadline) with
        {
            PartialPrecision = settings.Precision,
            Backward = settings.Backward ? new BackwardPass(OutputGradientFor(settings, input.Shape)) : null,
        };

    /// <summary>The one factory of a ring job's settings from what a verb's options say (run, experiment, bench precision).</summary>
    internal static RingJobSettings Job(AttentionInput input, int devices, string layout, bool causal, string? ringPatternSpec, int seed, int? threadsPerDevice = null, TimeSpan? deadline = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        var ringPattern = ringPatternSpec is null ? null
            : PatternSpec.Parse(ringPatternSpec, new PatternContext(input.Shape.SeqLen, seed, causal, input));
        return new RingJobSettings(
            devices,
            SequenceLayout.ParseKind(layout),
            causal,
            ringPattern,
            ThreadsPerDevice: threadsPerDevice,
            Deadline: deadline)
        {
            PatternSpec = ringPatternSpec,
            PatternSeed = seed,
        };
    }

    /// <summary>dO of <c>--backward</c>: read from <c>--grad-out</c> (q's shape, finite), else seeded by <c>--seed</c>.</summary>
    internal static float[] OutputGradientFor(JobSettings settings, AttentionShape shape) =>
        settings.GradOut is { } path ? NpyInputs.LoadOutputGradient(path, shape) : AttentionInput.RandomOutputGradient(shape, settings.Seed);

    internal static ReportOptions Baselines(Settings settings, AttentionInput input, long? available)
    {
        var specs = settings.Patterns.Length == 0 ? DefaultBaselines(input.Shape.SeqLen)
            : settings.Patterns.Any(p => p.Equals("none", StringComparison.OrdinalIgnoreCase)) ? []
            : settings.Patterns;
        var patterns = specs
            .Select(spec => PatternSpec.Parse(spec, new PatternContext(input.Shape.SeqLen, settings.Seed, settings.IsCausal, input)))
            .ToList();
        return new ReportOptions(
            patterns,
            BaselineThreads: settings.ThreadCount,
            MeasureScaling: !settings.NoScaling,
            PatternForPrefix: (pattern, half) => RebuildForPrefix(pattern, half, settings),
            Verify: settings.Verify is null ? null : Math.Verification.VerifyMode.Parse(settings.Verify),
            Repeats: settings.Repeats,
            MemoryAvailable: available);
    }

    /// <summary>Patterns built for N (random tables, layouts, top-k) are parsed again for the N/2 prefix from the same spec.</summary>
    private static AttentionPattern? RebuildForPrefix(AttentionPattern pattern, AttentionInput half, Settings settings)
    {
        try
        {
            return PatternSpec.Parse(pattern.Name, new PatternContext(half.Shape.SeqLen, settings.Seed, settings.IsCausal, half));
        }
        catch (ArgumentException)
        {
            return null; // e.g. a window wider than N/2: that cell of the scalability column stays empty
        }
    }

    /// <summary>The gradients' check of a backward job, off the caller's thread; null for a forward-only job.</summary>
    private static Task<GradientVerification?> VerifyGradientsAsync(AttentionInput input, RingJobSettings job, RingResult ring, ReportOptions baselines, CancellationToken cancellationToken) =>
        job.Backward is null ? Task.FromResult<GradientVerification?>(null)
            : Task.Run<GradientVerification?>(() => GradientReport.Verify(input, job, ring, baselines.Verify, baselines.BaselineThreads), cancellationToken);

    internal async Task<RunOutcome> RunWithProgress(ActorSystem system, AttentionInput input, RingJobSettings job, ReportOptions baselines, Settings settings, CancellationToken cancellationToken)
    {
        var shape = input.Shape;
        var title = $"mask {MaskWords.Name(job.Causal)}, ring of {job.Devices} devices, {SequenceLayout.NameOf(job.Layout)}, B={shape.Batch} H={shape.Heads} Hkv={shape.KvHeads} N={shape.SeqLen} d={shape.HeadDim}";
        if (!console.Profile.Capabilities.Interactive)
        {
            console.MarkupLine($"running the {Markup.Escape(title)} …");
            var ring = await RingRunner.RunAsync(system, input, job, null, cancellationToken);
            GradientReport.RequireGradients(job, ring);
            var stages = new Progress<string>(stage => console.MarkupLine($"… {Markup.Escape(stage)}"));
            var report = await new ReportBuilder(system).BuildAsync(input, job, ring, baselines, stages, cancellationToken);
            if (job.Backward is not null)
            {
                ((IProgress<string>)stages).Report("gradients against the float64 reference");
            }

            return new RunOutcome(report, ring.Output, ring) { Precision = job.PartialPrecision, Gradients = await VerifyGradientsAsync(input, job, ring, baselines, cancellationToken) };
        }

        return await console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var ringTask = context.AddTask($"ring: {Markup.Escape(title)}", maxValue: 1);
                var ringProgress = new Progress<RingProgress>(p => ringTask.Value = p.Fraction);
                var ring = await RingRunner.RunAsync(system, input, job, ringProgress, cancellationToken);
                GradientReport.RequireGradients(job, ring);
                ringTask.Value = 1;
                var stagesTotal = 3 + baselines.Baselines.Count + (baselines.MeasureScaling ? 1 : 0);
                var baselineTask = context.AddTask("baselines", maxValue: stagesTotal);
                var stages = new Progress<string>(stage =>
                {
                    baselineTask.Description = $"baselines: {Markup.Escape(stage)}";
                    baselineTask.Increment(1);
                });
                var report = await new ReportBuilder(system).BuildAsync(input, job, ring, baselines, stages, cancellationToken);
                baselineTask.Value = stagesTotal;
                var gradients = await VerifyGradientsAsync(input, job, ring, baselines, cancellationToken);
                return new RunOutcome(report, ring.Output, ring) { Precision = job.PartialPrecision, Gradients = gradients };
            });
    }
}

/// <summary>A finished run: the report, the ring's reassembled output, the ring's result (timelines) and its calibration, if asked.</summary>
public sealed record RunOutcome(JobReport Report, float[] Output, RingResult? Ring = null, IReadOnlyList<CalibrationLine>? Calibration = null)
{
    /// <summary>The partial precision the ring ran with: it decides the tolerances of the verdicts.</summary>
    public PartialPrecision Precision { get; init; } = PartialPrecision.Fp32;

    /// <summary>dQ, dK and dV against the float64 reference, when the job ran the backward pass.</summary>
    public GradientVerification? Gradients { get; init; }
}
