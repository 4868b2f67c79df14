using System.Diagnostics;
using Akka.Actor;
using RingActors.Math;
using RingActors.Math.Masks;

namespace RingActors.Actors;

/// <summary>
/// Builds a <see cref="JobReport"/> from a finished ring job: runs the dense baseline (<see cref="DenseAttention.Compute"/>) and
/// the requested sparse baselines (<see cref="SparseAttention.Compute"/>) on the same input, compares every output with dense,
/// and (optionally) measures each method again on the first N/2 tokens. Heavy work runs on the thread pool; nothing is formatted.
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
        var ringOptions = settings.OptionsFor(options.BaselineThreads);
        var ringReference = settings.Pattern is null ? denseResult.Output
            : (await Run(() => DenseAttention.Compute(input, ringOptions), cancellationToken).ConfigureAwait(false)).Result.Output;
        var ringError = ErrorMetrics.Compare(ring.Output, ringReference);

        TimeSpan? ringHalfTime = null;
        if (halfInput is not null && half >= settings.Devices)
        {
            var halfPattern = settings.Pattern is null ? null : forPrefix(settings.Pattern, halfInput);
            if (settings.Pattern is null || halfPattern is not null)
            {
                progress?.Report("ring at N/2");
                var halfSettings = settings with { Pattern = halfPattern, JobId = settings.JobId is null ? null : $"{settings.JobId}-half" };
                ringHalfTime = (await RingRunner.RunAsync(system, halfInput, halfSettings, null, cancellationToken).ConfigureAwait(false)).WallTime;
            }
        }

        rows.Add(new ComparisonRow(
            "ring", ring.Flops, Density(shape, ringOptions), ring.PeakResidentBytesPerDevice, ring.WallTime, ringHalfTime, Ratio(ring.WallTime, ringHalfTime)));

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
