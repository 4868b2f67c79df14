using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Akka.Actor;
using RingActors.Actors;
using RingActors.Actors.Faults;
using RingActors.Host.Cli;
using RingActors.Host.Reporting;
using RingActors.Math;
using RingActors.Math.Verification;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RingActors.Host.Commands;

/// <summary>
/// <c>ringactors experiment</c>: the ring job of <c>run</c>'s options under a fault plan, K times, each trial's output compared
/// with dense attention; prints what each fault did and what recovering cost. Exit 0 when every trial finished with an exact
/// output, 1 when a trial failed (its reason on one line) or was inexact, 2 for bad options.
/// </summary>
public sealed class ExperimentCommand(IAnsiConsole console) : AsyncCommand<ExperimentCommand.Settings>
{
    /// <summary>Fault-free runs whose median ring time is the baseline of the extra time.</summary>
    private const int BaselineRuns = 3;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public sealed class Settings : ClusterJobSettings
    {
        [CommandOption("--fault <KIND:ARGS>")]
        [Description("A fault to inject, repeatable: " + FaultSpec.Allowed + ". crash-node and partition need a cluster run.")]
        public string[] Faults { get; init; } = [];

        [CommandOption("--faults <FILE>")]
        [Description("A fault plan file, HOCON or JSON (examples under hocon/faults/); its seed is used instead of --seed for the faults.")]
        public string? FaultsFile { get; init; }

        [CommandOption("--trials <K>")]
        [Description("How many times to run the job under the plan.")]
        [DefaultValue(1)]
        public int Trials { get; init; } = 1;

        [CommandOption("--retries <N>")]
        [Description("Retransmissions of one hand-off before the job fails (default: the plan's, else 5).")]
        public int? Retries { get; init; }

        [CommandOption("--ack-timeout <MS>")]
        [Description("Milliseconds a link waits for an acknowledgement before retransmitting (default: the plan's, else 250).")]
        public double? AckTimeoutMs { get; init; }

        [CommandOption("--json <FILE>")]
        [Description("Write every trial (exact, maxAbsError, faults, costs) as JSON.")]
        public string? Json { get; init; }

        [CommandOption("--timeline <FILE>")]
        [Description("Draw the last trial's wall-clock timeline as a Gantt chart to FILE.png or FILE.svg: each fault marked where it was first injected, its recovery shaded, a slow device's slowed computes outlined, a killed device's lost work and its successor's on one row.")]
        public string? Timeline { get; init; }

        [CommandOption("--trace <FILE>")]
        [Description("Write the last trial's wall-clock timeline in the Chrome trace event format to FILE.json (Perfetto opens it), with the faults, recoveries and slowed spans of --timeline; nothing when the last trial failed.")]
        public string? Trace { get; init; }

        public override Spectre.Console.ValidationResult Validate()
        {
            if (Timeline is not null && Path.GetExtension(Timeline).ToUpperInvariant() is not (".PNG" or ".SVG"))
            {
                return Spectre.Console.ValidationResult.Error($"--timeline must name a .png or .svg file, got '{Timeline}'");
            }

            if (Trace is not null && !string.Equals(Path.GetExtension(Trace), ".json", StringComparison.OrdinalIgnoreCase))
            {
                return Spectre.Console.ValidationResult.Error($"--trace must name a .json file, got '{Trace}'");
            }

            if (Faults.Length == 0 && FaultsFile is null)
            {
                return Spectre.Console.ValidationResult.Error("give the faults: --fault KIND:ARGS (repeatable) or --faults FILE");
            }

            if (Trials is < 1 or > 100_000)
            {
                return Spectre.Console.ValidationResult.Error($"--trials must be in 1..100000, got {Trials}");
            }

            // TimeSpan.FromMilliseconds throws on NaN and overflows past ~10^14: the plan's own bound (10 min) is checked here first.
            var error = OptionLimits.Whole("--retries", Retries, 0, 100)
                ?? OptionLimits.Real("--ack-timeout", AckTimeoutMs, 1, 600_000, " milliseconds");
            return error is null ? base.Validate() : Spectre.Console.ValidationResult.Error(error);
        }
    }

    /// <summary>The plan the options describe: the file's, plus any --fault, with --retries / --ack-timeout applied.</summary>
    internal static FaultPlan PlanFrom(Settings settings)
    {
        var fromFile = settings.FaultsFile is { } file ? FaultPlan.Load(file) : new FaultPlan([], settings.Seed);
        var plan = fromFile with { Faults = [.. fromFile.Faults, .. settings.Faults.Select(FaultSpec.Parse)] };
        if (settings.Retries is { } retries)
        {
            plan = plan with { Retries = retries };
        }

        if (settings.AckTimeoutMs is { } ms)
        {
            plan = plan with { AckTimeout = TimeSpan.FromMilliseconds(ms) };
        }

        return plan.ValidateFor(settings.Devices, settings.Cluster, settings.Backward);
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var plan = PlanFrom(settings);
        var (input, _) = settings.Q is null
            ? (AttentionInput.Random(settings.Shape(), settings.Seed), null)
            : NpyInputs.Load(settings.Q, settings.K!, settings.V!);
        var job = RunCommand.JobFrom(settings, input).Validate(input.Shape);
        var shape = input.Shape;
        var describe = $"ring of {job.Devices} devices, {SequenceLayout.NameOf(job.Layout)}, "
            + $"B={shape.Batch} H={shape.Heads} Hkv={shape.KvHeads} N={shape.SeqLen} d={shape.HeadDim}";
        console.MarkupLine($"mask {MaskWords.Name(job.Causal)}: experiment {Markup.Escape(plan.Describe())} on a {Markup.Escape(describe)}, {settings.Trials} trial(s) …");
        var dense = DenseAttention.Compute(input, job.OptionsFor(settings.ThreadCount)).Output;
        var gradients = GradientCheckFor(input, job, settings.ThreadCount);
        var outputTolerance = Verdicts.Output(job.PartialPrecision);

        // Devices stopping and links retransmitting are the experiment, not news: only errors are logged. On a cluster this
        // process is the coordinator, and the devices are placed on the device members Up before each trial (a crashed
        // node must come back, e.g. restarted by its supervisor, for the next trial to use it).
        var node = settings.Cluster ? ClusterRun.StartCoordinator(settings, Akka.Configuration.ConfigurationFactory.ParseString("akka.loglevel = ERROR")) : null;
        var system = node?.System ?? LocalActorSystem.Create("ringactors");
        try
        {
            if (node is not null)
            {
                job = await ClusterRun.PlaceAsync(console, node, settings, job, cancellationToken);
            }

            // Fault-free baseline, warm, the median of a few runs: the extra time of a trial is measured against it.
            var baselines = new List<TimeSpan>();
            try
            {
                await RingRunner.RunAsync(system, input, job, null, cancellationToken);
                for (var run = 0; run < BaselineRuns; run++)
                {
                    baselines.Add((await RingRunner.RunAsync(system, input, job, null, cancellationToken)).RingTime);
                }
            }
            catch (RingJobException failure)
            {
                // No trial ran, so there is no report: the failure is the command's, one line on stderr like any other.
                throw new CommandFailedException($"the fault-free baseline run failed, no trial was run: {failure.Reason}", UserError.FailedExitCode);
            }

            var baseline = baselines.Order().ElementAt(BaselineRuns / 2);
            var trials = new List<ExperimentTrial>();
            Math.Modelling.RingTimeline? lastTimeline = null;
            IReadOnlyList<DeviceClockAlignment> lastAlignments = [];
            for (var trial = 0; trial < settings.Trials; trial++)
            {
                if (node is not null && trial > 0)
                {
                    job = await ClusterRun.PlaceAsync(console, node, settings, job, cancellationToken);
                }

                var (outcome, ring) = await Trial(system, input, job with { Faults = plan, Trial = trial }, dense, outputTolerance, gradients?.Check, baseline, cancellationToken);
                trials.Add(outcome);
                lastTimeline = ring?.MeasuredTimeline;
                lastAlignments = ring?.ClockAlignments ?? [];
            }

            var report = new ExperimentReport(MaskWords.Name(job.Causal), plan.Describe(), plan.Seed, describe, baseline, trials)
            {
                OutputTolerance = outputTolerance,
                Backward = gradients is { } g ? (g.Reference, Verdicts.Gradient(job.PartialPrecision)) : null,
            };
            console.Write(ExperimentView.Render(report));
            if (settings.Json is { } json)
            {
                File.WriteAllText(json, JsonSerializer.Serialize(ExperimentJson.Document(report), JsonOptions));
                console.MarkupLine($"experiment written to [bold]{Markup.Escape(json)}[/]");
            }

            if (settings.Trace is not null || settings.Timeline is not null)
            {
                var last = trials[^1];
                if (lastTimeline is null)
                {
                    // A failed job returns no result, so no device timeline; a recovered one draws its re-created devices.
                    console.MarkupLine("no trace or timeline written: the last trial failed, and a failed job returns no timeline");
                }
                else
                {
                    var marks = FaultMarks.From(last.Faults, lastTimeline);
                    var clock = lastAlignments.Any(a => !a.SameClock) ? "wall clock, the coordinator's" : "wall clock, this machine";
                    var title = $"experiment {plan.Describe()}, trial {last.Trial} ({clock})";
                    if (settings.Trace is { } trace)
                    {
                        ChromeTrace.Write(trace, lastTimeline, title, marks, lastAlignments);
                        console.MarkupLine($"trace of the last trial written to [bold]{Markup.Escape(trace)}[/] (Chrome trace event format, {marks.Count} fault(s) marked)");
                    }

                    if (settings.Timeline is { } chart)
                    {
                        // The chart marks a fault on a device's row; one struck on every link is drawn on device 0's.
                        Plots.TimelinePlot.Save(lastTimeline, chart, title, [.. marks.Select(m => m.Device == FaultMarks.AnyDevice ? m with { Device = 0, Label = $"{m.Label} (all links)" } : m)]);
                        console.MarkupLine($"timeline of the last trial written to [bold]{Markup.Escape(chart)}[/] ({marks.Count} fault(s) marked)");
                    }
                }
            }

            if (report.Failed.FirstOrDefault() is { } failed)
            {
                console.MarkupLine(Markup.Escape(
                    $"ringactors: trial {failed.Trial.ToString(CultureInfo.InvariantCulture)} failed: {failed.Failure}"
                    + (report.Failed.Count > 1 ? $" ({report.Failed.Count} of {trials.Count} trials failed)" : string.Empty)));
                return 1;
            }

            return report.ExactCount == trials.Count ? 0 : 1;
        }
        finally
        {
            if (node is not null)
            {
                await node.LeaveAsync();
            }
            else
            {
                await system.Terminate();
            }
        }
    }

    /// <summary>
    /// How a backward trial's gradients are checked: against the dense float64 oracle computed once when affordable, else
    /// the sampled float64 reference (<see cref="GradientReport.DefaultRows"/> rows) per trial; null for a forward-only job.
    /// </summary>
    private static (string Reference, Func<AttentionGradients, GradientErrors> Check)? GradientCheckFor(AttentionInput input, RingJobSettings job, int threads)
    {
        if (job.Backward is not { } backward)
        {
            return null;
        }

        var options = job.OptionsFor(threads);
        if (BackwardCheck.DenseAffordable(input.Shape))
        {
            var oracle = ReferenceBackward.Compute(input, backward.OutputGradient, options);
            return ("dense float64 oracle", actual => BackwardCheck.Compare(input.Shape, oracle, actual));
        }

        return ($"sampled float64 reference ({GradientReport.DefaultRows} rows)",
            actual => BackwardCheck.Sampled(input, options, backward.OutputGradient, actual, GradientReport.DefaultRows, job.PatternSeed, threads));
    }

    private static async Task<(ExperimentTrial Trial, RingResult? Ring)> Trial(
        ActorSystem system, AttentionInput input, RingJobSettings job, float[] dense, double outputTolerance, Func<AttentionGradients, GradientErrors>? checkGradients, TimeSpan baseline, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var result = await RingRunner.RunAsync(system, input, job, null, cancellationToken);
            var error = ErrorMetrics.Compare(result.Output, dense);
            GradientErrors? gradients = null;
            if (checkGradients is not null)
            {
                var computed = GradientReport.RequireGradients(job, result)!;
                gradients = checkGradients(computed);
            }

            var p = job.PartialPrecision;
            var gradientsExact = gradients is null
                || (Verdicts.GradientExact(gradients.Queries, p) && Verdicts.GradientExact(gradients.Keys, p) && Verdicts.GradientExact(gradients.Values, p));
            var exact = error.RelativeError <= outputTolerance && gradientsExact;
            return (new ExperimentTrial(
                job.Trial, exact, error.MaxAbsError, error.RelativeError,
                result.RingTime, result.RingTime - baseline, result.Faults, null, gradients), result);
        }
        catch (RingJobException failure)
        {
            return (new ExperimentTrial(
                job.Trial, false, double.NaN, double.NaN, System.Diagnostics.Stopwatch.GetElapsedTime(started), TimeSpan.Zero, null, failure.Reason), null);
        }
    }
}
