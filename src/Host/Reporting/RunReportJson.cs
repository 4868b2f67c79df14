using System.Text.Json;
using System.Text.Json.Serialization;
using RingActors.Actors;
using RingActors.Actors.Protocol;
using RingActors.Host.Commands;
using RingActors.Math;
using RingActors.Math.Modelling;

namespace RingActors.Host.Reporting;

/// <summary>The whole report of a ring job as JSON (camelCase); the ring's error against dense is at the top level.</summary>
public static class RunReportJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        // An infinite error (a non-finite output) must still be written, as a string, rather than fail the report.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void Write(string path, RunOutcome outcome)
    {
        var document = JsonSerializer.SerializeToNode(Document(outcome.Report), Options)!.AsObject();
        // The verdict follows the partial precision's tolerances: bf16 partials are judged against their own.
        document["partialDtype"] = Cli.PrecisionWords.Name(outcome.Precision);
        document["exact"] = Verdicts.OutputExact(outcome.Report, outcome.Precision)
            && outcome.Gradients is not { Errors: not null, Exact: false };
        document["outputExact"] = Verdicts.OutputExact(outcome.Report, outcome.Precision);
        document["outputTolerance"] = Verdicts.Output(outcome.Precision);
        if (outcome.Gradients is { } gradients)
        {
            document["gradients"] = JsonSerializer.SerializeToNode(Gradients(gradients), Options);
        }

        if (outcome.Ring is { } ring)
        {
            // The timeline drawn and calibrated against (the median timed run's), not the first run's, which also times the JIT.
            document["timeline"] = JsonSerializer.SerializeToNode(Timelines(outcome.Report.MedianRun ?? ring), Options);
            if (ring.Placement is { } placement)
            {
                document["nodes"] = JsonSerializer.SerializeToNode(placement.Distinct().ToArray(), Options);
                document["placement"] = JsonSerializer.SerializeToNode(placement, Options);
                document["networkBytes"] = ring.NetworkBytes;
                document["coordinatorSentBytes"] = ring.SupervisorNetworkBytes;
                document["deviceNetwork"] = JsonSerializer.SerializeToNode(ring.Devices.Select(d => new
                {
                    device = d.Device,
                    node = placement[d.Device],
                    epoch = d.Epoch,
                    toSuccessorBytes = d.NetworkBytesToSuccessor,
                    toPredecessorBytes = d.NetworkBytesToPredecessor,
                    toCoordinatorBytes = d.NetworkBytesToSupervisor,
                    retransmissions = d.Retransmissions,
                }), Options);
            }
        }

        if (outcome.Calibration is { } calibration)
        {
            document["calibration"] = JsonSerializer.SerializeToNode(calibration.Select(line => new
            {
                profile = line.Profile.Name,
                source = line.Profile.Source,
                predictedSeconds = line.PredictedSeconds,
                measuredSeconds = line.MeasuredSeconds,
                measuredRunSeconds = line.MeasuredRunSeconds,
                ratio = line.Ratio,
                predictedOverlap = line.PredictedOverlap,
                measuredOverlap = line.MeasuredOverlap,
                predictedComputeSeconds = line.PredictedComputeSeconds,
                measuredComputeSeconds = line.MeasuredComputeSeconds,
            }), Options);
        }

        File.WriteAllText(path, document.ToJsonString(Options));
    }

    public static object Document(JobReport report) => new
    {
        mask = report.Mask,
        report.JobId,
        maxAbsError = report.RingError?.MaxAbsError,
        relativeError = report.RingError?.RelativeError,
        cosineSimilarity = report.RingError?.CosineSimilarity,
        exact = report.Exact,
        verification = report.Verification is { } v ? new
        {
            mode = v.Mode,
            reason = v.Reason,
            seconds = v.Time.TotalSeconds,
            predictedFullSeconds = v.PredictedFullSeconds,
            rowsChecked = v.Result?.RowsChecked,
            emptyRows = v.Result?.EmptyRows,
            pairs = v.Result?.Pairs,
            lseMaxAbsError = v.Result?.LseMaxAbsError,
            worstRow = v.Result?.WorstRow,
            worstRowError = v.Result is { } r && double.IsFinite(r.WorstRowError) ? r.WorstRowError : (double?)null,
            worstRowFinite = v.Result is not { } f || double.IsFinite(f.WorstRowError),
        } : null,
        memory = report.Memory is { } m ? new
        {
            estimatedBytes = m.Required,
            inputBytes = m.Inputs,
            ringBytes = m.Ring,
            perDeviceBytes = m.PerDevice,
            referenceBytes = m.Reference,
            halfInputBytes = m.HalfInput,
            lawBytesPerDevice = report.LawBytesPerDevice,
            measuredOverLaw = report.LawBytesPerDevice > 0 ? (double)report.RingPeakBytesPerDevice / report.LawBytesPerDevice : (double?)null,
            processPeakResidentBytes = SystemMemory.PeakResident(),
        } : null,
        shape = new { report.Shape.Batch, report.Shape.Heads, report.Shape.KvHeads, seqLen = report.Shape.SeqLen, headDim = report.Shape.HeadDim },
        ring = new
        {
            report.Settings.Devices,
            layout = report.Layout,
            report.Settings.Causal,
            pattern = report.Settings.Pattern?.Name,
            wallSeconds = report.WallTime.TotalSeconds,
            ringSeconds = report.RingTime.TotalSeconds,
            wallTiming = Spread(report.WallTiming),
            ringTiming = Spread(report.RingTiming),
            flops = report.RingFlops,
            report.HandOffs,
            report.Overlap,
            report.Imbalance,
            peakBytesPerDevice = report.RingPeakBytesPerDevice,
        },
        devices = report.Devices.Select(Device),
        backward = report.Backward is { } backward ? new
        {
            ringSeconds = backward.RingTime.TotalSeconds,
            flops = backward.Flops,
            handOffs = backward.HandOffs,
            peakBytesPerDevice = backward.PeakBytesPerDevice,
            contributionsSent = backward.ContributionsSent,
            contributionsSummed = backward.ContributionsSummed,
            devices = backward.Devices.Select(d => new
            {
                stats = Device(d),
                d.ContributionsSent,
                d.ContributionsSummed,
                d.ContributionDuplicates,
                d.ContributionsRecomputed,
            }),
        } : null,
        baselines = report.Sparse.Prepend(report.Dense).Select(b => new
        {
            b.Name,
            b.Density,
            b.Flops,
            b.PairsComputed,
            seconds = b.NeedsBytes is null ? b.Time.TotalSeconds : (double?)null,
            timing = Spread(b.Timing),
            error = b.ErrorVsDense is { } e ? Error(e) : null,
            peakBytes = b.PeakBytes,
            fits = b.NeedsBytes is null,
            needsBytes = b.NeedsBytes,
        }),
        comparison = report.Comparison.Select(row => new
        {
            row.Method,
            complexityFlops = row.Flops,
            scopeDensity = row.Density,
            memoryPerDeviceBytes = row.PeakBytesPerDevice,
            seconds = row.NeedsBytes is null ? row.Time.TotalSeconds : (double?)null,
            halfSeconds = row.HalfTime?.TotalSeconds,
            timing = Spread(row.Timing),
            halfTiming = Spread(row.HalfTiming),
            scalingRatio = row.ScalingRatio,
            needsBytes = row.NeedsBytes,
        }),
    };

    /// <summary>dQ, dK and dV each with maxAbsError, relativeError, cosineSimilarity, rowsChecked and exact, beside the reference and tolerance.</summary>
    private static object Gradients(GradientVerification v) => new
    {
        reference = v.Reference,
        reason = v.Reason,
        partialDtype = Cli.PrecisionWords.Name(v.Precision),
        tolerance = v.Tolerance,
        seconds = v.Time.TotalSeconds,
        exact = v.Errors is null ? (bool?)null : v.Exact,
        dq = v.Errors is { } q ? Gradient(q.Queries, q.QueryRowsChecked, v) : null,
        dk = v.Errors is { } k ? Gradient(k.Keys, k.KeyRowsChecked, v) : null,
        dv = v.Errors is { } w ? Gradient(w.Values, w.KeyRowsChecked, v) : null,
    };

    private static object Gradient(ErrorMetrics e, long rows, GradientVerification v) => new
    {
        maxAbsError = e.MaxAbsError,
        relativeError = e.RelativeError,
        cosineSimilarity = e.CosineSimilarity,
        rowsChecked = rows,
        exact = Verdicts.GradientExact(e, v.Precision),
    };

    private static object Device(DeviceStats d) => new
    {
        d.Device,
        d.QueryTokens,
        d.BlocksComputed,
        d.BlocksSkipped,
        d.PairsComputed,
        d.Flops,
        computeSeconds = d.ComputeTime.TotalSeconds,
        computeQueueSeconds = d.ComputeQueueTime.TotalSeconds,
        waitingSeconds = d.WaitingTime.TotalSeconds,
        d.BytesSent,
        d.BytesReceived,
        d.NetworkBytesSent,
        d.HandOffsSent,
        d.HandOffsReceived,
        d.HandOffsDelayedByCredit,
        d.PeakResidentBytes,
        d.PeakBlocksHeld,
        d.DuplicatesDropped,
        d.BlocksRefused,
        handOffSeconds = d.HandOffTime.TotalSeconds,
        hiddenHandOffSeconds = d.HiddenHandOffTime.TotalSeconds,
    };

    /// <summary>Totals of the wall-clock timeline and, with a profile, of the virtual one.</summary>
    private static object Timelines(RingResult ring) => new
    {
        measured = Summary(ring.MeasuredTimeline),
        @virtual = Summary(ring.VirtualTimeline),
        profile = ring.Settings.VirtualTime?.Profile.Name,
    };

    private static object? Summary(RingTimeline? t) => t is null ? null : new
    {
        totalSeconds = t.TotalSeconds,
        perStepSeconds = t.PerStepSeconds,
        overlap = t.Overlap,
        computeSeconds = t.ComputeSeconds,
        communicationSeconds = t.CommunicationSeconds,
        hiddenCommunicationSeconds = t.HiddenCommunicationSeconds,
        idleSeconds = t.Devices.Sum(d => d.IdleSeconds),
    };

    private static object? Spread(Timing? t) => t is null ? null : new
    {
        medianSeconds = t.Median.TotalSeconds,
        minSeconds = t.Min.TotalSeconds,
        maxSeconds = t.Max.TotalSeconds,
        runs = t.Runs,
        spread = t.Spread,
    };

    private static object Error(ErrorMetrics e) => new { maxAbsError = e.MaxAbsError, relativeError = e.RelativeError, cosineSimilarity = e.CosineSimilarity };
}
