using RingActors.Actors.Faults;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace RingActors.Host.Reporting;

/// <summary>The tables of <c>ringactors experiment</c>: what each fault did and cost, each trial's outcome, and a summary line.</summary>
public static class ExperimentView
{
    /// <summary>Trials listed one per row up to this many; beyond it only the failed and inexact ones are.</summary>
    public const int MaxTrialRows = 20;

    public static IRenderable Render(ExperimentReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var (median, worst) = report.ExtraTime;
        var summary = new Markup(
            $"[bold]{report.ExactCount} of {report.Trials.Count}[/] {(report.Backward is { } backward ? $"trials exact: output equal to dense (≤ {report.OutputTolerance:0e+0} relative) and dQ, dK, dV equal to the {Markup.Escape(backward.Reference)} (≤ {backward.Tolerance:0e+0} relative)" : $"outputs equal dense (≤ {report.OutputTolerance:0e+0} relative)")}; "
            + $"{report.Failed.Count} failed; extra ring time over the fault-free {Units.Seconds(report.BaselineRingTime.TotalSeconds)}: "
            + $"median {Signed(median)}, worst {Signed(worst)}");
        var trials = TrialTable(report);
        return new Rows(
            new Markup($"mask {report.Mask}: [bold]faults[/] {Markup.Escape(report.Plan)}, seed {report.Seed}, {Markup.Escape(report.Job)}"),
            FaultTable(report),
            trials is null ? new Markup($"all {report.Trials.Count} trials exact") : trials,
            summary);
    }

    private static Table FaultTable(ExperimentReport report)
    {
        var table = new Table().Title("what each fault did (over all trials)")
            .AddColumns("fault", "struck", "first injected", "first detected", "how recovered", "time to recover (median / worst)", "retransmissions", "extra bytes");
        var records = report.Trials.Where(t => t.Faults is not null).SelectMany(t => t.Faults!.Records).GroupBy(r => r.Fault);
        foreach (var group in records)
        {
            var list = group.ToList();
            var recover = list.Where(r => r.MedianTimeToRecover is not null).ToList();
            table.AddRow(
                Markup.Escape(group.Key),
                Units.Count(list.Sum(r => r.Occurrences)),
                Time(list.Select(r => r.FirstInjected).Where(t => t is not null).Min()),
                Time(list.Select(r => r.FirstDetected).Where(t => t is not null).Min()),
                Markup.Escape(Recoveries(list)),
                recover.Count == 0 ? "–" : $"{Time(recover.Select(r => r.MedianTimeToRecover).Order().ElementAt(recover.Count / 2))} / {Time(recover.Max(r => r.WorstTimeToRecover))}",
                Units.Count(list.Sum(r => r.Retransmissions)),
                Units.Bytes(list.Sum(r => r.ExtraBytes)));
        }

        return table;
    }

    private static Table? TrialTable(ExperimentReport report)
    {
        var table = new Table().Title("trials").AddColumns("trial", "outcome", "max abs error", "relative error");
        if (report.Backward is not null)
        {
            table.AddColumns("dQ max abs / rel", "dK max abs / rel", "dV max abs / rel");
        }

        table.AddColumns("ring time", "extra time", "devices re-created", "retransmissions", "extra bytes");
        var rows = report.Trials.Count <= MaxTrialRows ? report.Trials : report.Trials.Where(t => !t.Exact).ToList();
        if (rows.Count == 0)
        {
            return null;
        }

        foreach (var trial in rows)
        {
            var outcome = trial.Failure is { } reason ? $"[red]failed: {Markup.Escape(reason)}[/]" : trial.Exact ? "[green]exact[/]" : "[red]NOT exact[/]";
            var cells = new List<string>
            {
                trial.Trial.ToString(System.Globalization.CultureInfo.InvariantCulture),
                outcome,
                trial.Failure is null ? Units.Error(trial.MaxAbsError) : "–",
                trial.Failure is null ? Units.Error(trial.RelativeError) : "–",
            };
            if (report.Backward is not null)
            {
                cells.AddRange(trial.Gradients is { } g
                    ? [Pair(g.Queries), Pair(g.Keys), Pair(g.Values)]
                    : ["–", "–", "–"]);
            }

            cells.AddRange([
                Units.Seconds(trial.RingTime.TotalSeconds),
                trial.Failure is null ? Signed(trial.ExtraTime) : "–",
                Units.Count(trial.Faults?.Restarts ?? 0),
                Units.Count(trial.Faults?.Retransmissions ?? 0),
                Units.Bytes(trial.Faults?.ExtraBytes ?? 0)]);
            table.AddRow(cells.ToArray());
        }

        if (rows.Count < report.Trials.Count)
        {
            table.Caption($"{report.Trials.Count - rows.Count} exact trials not listed");
        }

        return table;
    }

    private static string Pair(Math.ErrorMetrics error) => $"{Units.Error(error.MaxAbsError)} / {Units.Error(error.RelativeError)}";

    /// <summary>The distinct ways a fault was recovered over the trials; "not triggered" only when it never struck.</summary>
    private static string Recoveries(List<FaultRecord> records)
    {
        var struck = records.Where(r => r.Occurrences > 0).Select(r => r.Recovery).Distinct().ToList();
        return string.Join("; ", struck.Count > 0 ? struck : records.Select(r => r.Recovery).Distinct());
    }

    /// <summary>Extra time can come out below zero (the baseline's own noise): the sign is kept, the unit fits the magnitude.</summary>
    private static string Signed(TimeSpan time) => time < TimeSpan.Zero ? "−" + Units.Seconds(-time.TotalSeconds) : Units.Seconds(time.TotalSeconds);

    private static string Time(TimeSpan? time) => time is { } t ? Units.Seconds(t.TotalSeconds) : "–";
}

/// <summary>The experiment as JSON (camelCase): per trial at least <c>exact</c> and <c>maxAbsError</c>.</summary>
public static class ExperimentJson
{
    public static object Document(ExperimentReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var (median, worst) = report.ExtraTime;
        return new
        {
            mask = report.Mask,
            plan = report.Plan,
            seed = report.Seed,
            job = report.Job,
            baselineRingSeconds = report.BaselineRingTime.TotalSeconds,
            exactTrials = report.ExactCount,
            failedTrials = report.Failed.Count,
            medianExtraSeconds = median.TotalSeconds,
            worstExtraSeconds = worst.TotalSeconds,
            outputTolerance = report.OutputTolerance,
            backward = report.Backward is { } backward ? new { reference = backward.Reference, tolerance = backward.Tolerance } : null,
            trials = report.Trials.Select(t => new
            {
                trial = t.Trial,
                exact = t.Exact,
                maxAbsError = t.MaxAbsError,
                relativeError = t.RelativeError,
                ringSeconds = t.RingTime.TotalSeconds,
                extraSeconds = t.ExtraTime.TotalSeconds,
                failure = t.Failure,
                restarts = t.Faults?.Restarts ?? 0,
                retransmissions = t.Faults?.Retransmissions ?? 0,
                extraBytes = t.Faults?.ExtraBytes ?? 0,
                pairsRecomputed = t.Faults?.PairsRecomputed ?? 0,
                faults = t.Faults?.Records.Select(Record).ToList(),
                gradients = t.Gradients is { } g ? new { dq = Error(g.Queries), dk = Error(g.Keys), dv = Error(g.Values) } : null,
            }).ToList(),
        };
    }

    private static object Error(Math.ErrorMetrics e) => new { maxAbsError = e.MaxAbsError, relativeError = e.RelativeError, cosineSimilarity = e.CosineSimilarity };

    private static object Record(FaultRecord r) => new
    {
        fault = r.Fault,
        occurrences = r.Occurrences,
        firstInjectedSeconds = r.FirstInjected?.TotalSeconds,
        firstDetectedSeconds = r.FirstDetected?.TotalSeconds,
        recovery = r.Recovery,
        medianTimeToRecoverSeconds = r.MedianTimeToRecover?.TotalSeconds,
        worstTimeToRecoverSeconds = r.WorstTimeToRecover?.TotalSeconds,
        retransmissions = r.Retransmissions,
        extraBytes = r.ExtraBytes,
    };
}
