using System.Globalization;
using Akka.Actor;
using RingActors.Host.Commands;
using RingActors.Host.Plots;
using RingActors.Math;
using Spectre.Console;

namespace RingActors.Host.Reporting;

/// <summary>The timeline part of <c>ringactors run</c>: the virtual prediction, the Gantt chart and the calibration lines.</summary>
public static class RunTimelineView
{
    /// <summary>
    /// Prints the virtual clock's prediction (when the job ran with a profile), draws <paramref name="timelinePath"/> (the virtual
    /// timeline if there is one, else the wall-clock one) and, with <paramref name="calibrate"/>, predicts the run with profiles
    /// of this machine and prints predicted vs measured. Returns the outcome with its calibration.
    /// </summary>
    public static async Task<RunOutcome> WriteAsync(IAnsiConsole console, ActorSystem system, AttentionInput input, RunOutcome outcome, string? timelinePath, bool calibrate, CancellationToken cancellationToken, string? tracePath = null)
    {
        // The median timed run, not the job's own first run: that one also times the JIT compiler.
        var ring = outcome.Report.MedianRun ?? outcome.Ring ?? throw new ArgumentException("the outcome holds no ring result", nameof(outcome));
        if (ring.VirtualTimeline is { } predicted && ring.Settings.VirtualTime is { } time)
        {
            console.MarkupLine(Markup.Escape(Invariant(
                $"virtual clock on {time.Profile.Name}: {predicted.TotalSeconds:G4} s predicted ({predicted.PerStepSeconds:G4} s per step), overlap {predicted.Overlap:P1}; measured here {ring.MeasuredTimeline?.TotalSeconds:G4} s")));
        }

        if (timelinePath is not null)
        {
            var (timeline, clock) = Chosen(ring);
            var shape = input.Shape;
            var title = Invariant($"ring of {ring.Settings.Devices} devices, N = {shape.SeqLen:N0}, {Actors.SequenceLayout.NameOf(ring.Settings.Layout)}{(ring.Settings.Causal ? ", causal" : string.Empty)} ({clock})");
            TimelinePlot.Save(timeline, timelinePath, title);
            console.MarkupLine($"timeline ({Markup.Escape(clock)}) written to [bold]{Markup.Escape(timelinePath)}[/]");
        }

        if (tracePath is not null)
        {
            var (timeline, clock) = Chosen(ring);
            var shape = input.Shape;
            ChromeTrace.Write(tracePath, timeline, Invariant($"ring of {ring.Settings.Devices} devices, N = {shape.SeqLen:N0} ({clock})"), alignments: ring.VirtualTimeline is null ? ring.ClockAlignments : null);
            console.MarkupLine($"trace ({Markup.Escape(clock)}) written to [bold]{Markup.Escape(tracePath)}[/] (Chrome trace event format)");
        }

        if (!calibrate)
        {
            return outcome;
        }

        var settings = Actors.Configuration.RingActorsSettings.Create(system);
        var host = new Math.Modelling.HostSharing(Environment.ProcessorCount, settings.ComputeThreads, ring.Settings.ThreadsPerDevice ?? settings.ThreadsPerDevice);
        // Both profiles are compared with the median of the job's runs taken in turns with the local probe, not with the
        // report's runs: those ran before the probe, and this VM's load moved between them.
        var (local, runs) = await PlanLocalProfile.MeasureInTurnsWithJobAsync(system, input, ring.Settings with { JobId = null }, host, cancellationToken);
        var measured = runs.OrderBy(RingSeconds).ElementAt(runs.Count / 2);
        var runSeconds = runs.Select(RingSeconds).ToArray();
        var lines = new List<CalibrationLine>
        {
            (await RunCalibration.PredictAsync(system, input, measured, RunCalibration.FromRun(input, measured, host), cancellationToken)) with { MeasuredRunSeconds = runSeconds },
            (await RunCalibration.PredictAsync(system, input, measured, local, cancellationToken)) with { MeasuredRunSeconds = runSeconds },
        };
        var table = new Table().Title("calibration: the same job predicted in virtual time vs measured on the wall clock")
            .AddColumns("profile", "predicted s", "measured s", "predicted / measured", "predicted overlap", "measured overlap", "source");
        foreach (var line in lines)
        {
            table.AddRow(
                Markup.Escape(line.Profile.Name),
                Invariant($"{line.PredictedSeconds:G4}"),
                Invariant($"{line.MeasuredSeconds:G4}"),
                Invariant($"{line.Ratio:F2}"),
                Invariant($"{line.PredictedOverlap:P1}"),
                Invariant($"{line.MeasuredOverlap:P1}"),
                Markup.Escape(line.Profile.Source));
        }

        console.Write(table);
        return outcome with { Calibration = lines };
    }

    /// <summary>A run's ring time as its timeline measured it: what a calibration line compares with.</summary>
    private static double RingSeconds(Actors.RingResult ring) =>
        (ring.MeasuredTimeline ?? throw new ArgumentException("the run recorded no timeline", nameof(ring))).TotalSeconds;

    /// <summary>The timeline a run draws: the virtual one when it ran with a profile, else the measured one (on the coordinator's clock for a cluster run).</summary>
    private static (Math.Modelling.RingTimeline Timeline, string Clock) Chosen(Actors.RingResult ring) =>
        ring.VirtualTimeline is { } v ? (v, $"virtual clock, {ring.Settings.VirtualTime!.Profile.Name}")
        : ring.MeasuredTimeline is { } m ? (m, ring.ClockAlignments.Any(a => !a.SameClock) ? "wall clock, the coordinator's; other nodes aligned to it" : "wall clock, this machine")
        : throw new InvalidOperationException("the run recorded no timeline");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
