using System.Diagnostics;
using Akka.Actor;
using RingActors.Math;
using RingActors.Math.Masks;

namespace RingActors.Actors;

/// <summary>
/// Builds a <see cref="JobReport"/> from a finished ring job: runs the dense baseline (<see cref="DenseAttention.Compute"/>) and
/// the requested sparse baselines (<see cref="SparseAttention.Compute"/>) on the same input, compares every output with dense,
/// and (optionally, <see cref="ReportOptions.MeasureScaling"/>) times every method — the ring included — warm, on the first N/2
/// tokens and on all N, for the comparison table. Heavy work runs on the thread pool; nothing is formatted.
/// </summary>
public sealed class ReportBuilder(ActorSystem system)
{

    /// <summary>Runs the baselines and assembles the report. <paramref name="progress"/> receives the name of each stage as it starts.</summary>
    public async Task<JobReport> BuildAsync(
        AttentionInput input,
        RingJobSettings settings,
        RingResult ring,
        ReportOptions options,
        IProgress<string>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(ring);
        ArgumentNullException.ThrowIfNull(options);
        if (ring.Shape != input.Shape)
        {
            throw new ArgumentException($"the ring ran on {ring.Shape}, the input is {input.Shape}", nameof(ring));
        }

        if (options.BaselineThreads < 1)
        {
            throw new ArgumentException($"baseline threads must be ≥ 1, got {options.BaselineThreads}", nameof(options));
        }

        var shape = input.Shape;
        var half = shape.SeqLen / 2;
        var halfInput = options.MeasureScaling && half >= 1 ? InputSlicing.Prefix(input, half) : null;
        var forPrefix = options.PatternForPrefix ?? SamePatternIfValid;
        var denseOptions = new AttentionOptions(settings.Causal, null, settings.Scale, options.BaselineThreads);
        var ringOptions = settings.OptionsFor(options.BaselineThreads);

        if (halfInput is not null)
        {
            // First calls pay for JIT (tier-0 code until tiering catches up, which a short prefix does not wait for), thread
            // start-up and fresh pages: one untimed run of each method at N/2 takes those costs out of the timings.
            progress?.Report("warm-up");
            await Run(() => DenseAttention.Compute(halfInput, denseOptions), cancellationToken).ConfigureAwait(false);
            foreach (var pattern in options.Baselines)
            {
                if (forPrefix(pattern, halfInput) is { } warmPattern)
                {
                    await Run(() => SparseAttention.Compute(halfInput, denseOptions with { Pattern = warmPattern }), cancellationToken).ConfigureAwait(false);
                }
            }

            if (half >= settings.Devices && (settings.Pattern is null || forPrefix(settings.Pattern, halfInput) is not null))
            {
                var warmSettings = Renamed(settings, "warm-up") with { Pattern = settings.Pattern is null ? null : forPrefix(settings.Pattern, halfInput) };
                await RingRunner.RunAsync(system, halfInput, warmSettings, null, cancellationToken).ConfigureAwait(false);
            }
        }

        progress?.Report("dense baseline");
        var denseHalfTime = halfInput is null ? null : await Timed(() => DenseAttention.Compute(halfInput, denseOptions), cancellationToken).ConfigureAwait(false);
        var (denseResult, denseTime) = await Run(() => DenseAttention.Compute(input, denseOptions), cancellationToken).ConfigureAwait(false);
        var densePairs = (long)shape.Batch * shape.Heads * shape.SeqLen * shape.SeqLen;
        var dense = new BaselineReport(
            "dense", 1, 4.0 * shape.HeadDim * densePairs, densePairs, denseTime, new ErrorMetrics(0, 0, 1), DenseAttention.PeakWorkingBytes(shape));
        var rows = new List<ComparisonRow> { Row(dense, denseHalfTime) };

        var sparse = new List<BaselineReport>();
        foreach (var pattern in options.Baselines)
        {
            progress?.Report($"{pattern.Name} baseline");
            var patternOptions = denseOptions with { Pattern = pattern };
            var halfPattern = halfInput is null ? null : forPrefix(pattern, halfInput);
            var halfTime = halfPattern is null ? null
                : await Timed(() => SparseAttention.Compute(halfInput!, patternOptions with { Pattern = halfPattern }), cancellationToken).ConfigureAwait(false);
            var (result, time) = await Run(() => SparseAttention.Compute(input, patternOptions), cancellationToken).ConfigureAwait(false);
            var baseline = new BaselineReport(
                pattern.Name, result.Density, result.Flops, result.PairsComputed, time,
                ErrorMetrics.Compare(result.Result.Output, denseResult.Output), result.PeakWorkingBytes);
            sparse.Add(baseline);
            rows.Add(Row(baseline, halfTime));
        }

        // The ring is exact for its own mask: compare it with dense under that mask (the dense baseline unless a pattern is set).
        var ringReference = settings.Pattern is null ? denseResult.Output
            : (await Run(() => DenseAttention.Compute(input, ringOptions), cancellationToken).ConfigureAwait(false)).Result.Output;
        var ringError = ErrorMetrics.Compare(ring.Output, ringReference);

        // The ring's row is timed like the baselines' (warm, N/2 then N); the job's own run may have paid the first-call costs.
        var ringTime = ring.WallTime;
        TimeSpan? ringHalfTime = null;
        if (halfInput is not null && half >= settings.Devices)
        {
            var halfPattern = settings.Pattern is null ? null : forPrefix(settings.Pattern, halfInput);
            if (settings.Pattern is null || halfPattern is not null)
            {
                progress?.Report("ring at N/2 and N");
                ringHalfTime = (await RingRunner.RunAsync(system, halfInput, Renamed(settings, "half") with { Pattern = halfPattern }, null, cancellationToken)
                    .ConfigureAwait(false)).WallTime;
                ringTime = (await RingRunner.RunAsync(system, input, Renamed(settings, "full"), null, cancellationToken).ConfigureAwait(false)).WallTime;
            }
        }

        rows.Add(new ComparisonRow(
            "ring", ring.Flops, Density(shape, ringOptions), ring.PeakResidentBytesPerDevice, ringTime, ringHalfTime, Ratio(ringTime, ringHalfTime)));

        return new JobReport(
            ring.JobId, shape, settings, SequenceLayout.NameOf(settings.Layout), ringError, dense, sparse, ring.Devices,
            ring.Overlap, ring.Imbalance, ring.HandOffs, ring.WallTime, ring.RingTime, ring.Flops, ring.PeakResidentBytesPerDevice, rows);
    }

    /// <summary>Allowed pairs over the basis pairs, as <see cref="SparseAttentionResult.Density"/> counts them (causal basis when causal).</summary>
    private static double Density(AttentionShape shape, AttentionOptions options)
    {
        var n = (long)shape.SeqLen;
        var causal = options.Causal || options.Pattern is { IsCausal: true };
        var basis = (long)shape.Batch * shape.Heads * (causal ? n * (n + 1) / 2 : n * n);
        return (double)SparseAttention.CountAllowedPairs(shape, options) / basis;
    }

    private static RingJobSettings Renamed(RingJobSettings settings, string suffix) =>
        settings with { JobId = settings.JobId is null ? null : $"{settings.JobId}-{suffix}" };

    private static AttentionPattern? SamePatternIfValid(AttentionPattern pattern, AttentionInput prefix)
    {
        try
        {
            pattern.Validate(prefix.Shape);
            return pattern;
        }
        catch (ArgumentException)
        {
            return null; // built for N: without a rebuilt pattern there is nothing comparable to measure at N/2
        }
    }

    private static ComparisonRow Row(BaselineReport baseline, TimeSpan? halfTime) =>
        new(baseline.Name, baseline.Flops, baseline.Density, baseline.PeakBytes, baseline.Time, halfTime, Ratio(baseline.Time, halfTime));

    private static double? Ratio(TimeSpan time, TimeSpan? halfTime) =>
        halfTime is { } half && half > TimeSpan.Zero ? time / half : null;

    private static async Task<TimeSpan?> Timed<T>(Func<T> work, CancellationToken cancellationToken) =>
        (await Run(work, cancellationToken).ConfigureAwait(false)).Time;

    private static Task<(T Result, TimeSpan Time)> Run<T>(Func<T> work, CancellationToken cancellationToken) =>
        Task.Run(
            () =>
            {
                var started = Stopwatch.GetTimestamp();
                var result = work();
                return (result, Stopwatch.GetElapsedTime(started));
            },
            cancellationToken);
}
