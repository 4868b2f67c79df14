using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using RingActors.Math;
using RingActors.Math.Masks;
using RingActors.Math.Verification;

namespace RingActors.Actors;

/// <summary>
/// Builds a <see cref="JobReport"/> from a finished ring job: verifies the ring against the float64 tiled reference
/// (<see cref="ReferenceCheck"/>, every row or sampled rows), runs the dense baseline (<see cref="DenseAttention.Compute"/>)
/// and the requested sparse baselines (<see cref="SparseAttention.Compute"/>) where they fit the memory available, and times
/// every method — the ring included — as the median of <see cref="ReportOptions.Repeats"/> runs after a warm-up of the same
/// path, at N and (optionally, <see cref="ReportOptions.MeasureScaling"/>) at N/2 for the comparison table. Heavy work runs on
/// the thread pool; nothing is formatted.
/// </summary>
public sealed class ReportBuilder(ActorSystem system)
{
    /// <summary>Sampled rows whose timing predicts what the full check would cost.</summary>
    private const int ProbeRows = 64;

    /// <summary>Runs the baselines and the check and assembles the report. <paramref name="progress"/> receives the name of each stage as it starts.</summary>
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

        if (options.Repeats < 3)
        {
            throw new ArgumentException($"a time is the median of at least 3 runs, got {options.Repeats}", nameof(options));
        }

        var shape = input.Shape;
        var half = shape.SeqLen / 2;
        var halfInput = options.MeasureScaling && half >= 1 ? InputSlicing.Prefix(input, half) : null;
        var forPrefix = options.PatternForPrefix ?? SamePatternIfValid;
        var denseOptions = new AttentionOptions(settings.Causal, null, settings.Scale, options.BaselineThreads);
        var ringOptions = settings.OptionsFor(options.BaselineThreads);
        var memory = JobMemory.Estimate(shape, settings.Devices, halfInput is not null, options.BaselineThreads, settings.Backward is not null, settings.ThreadsPerDevice ?? 1);
        var available = options.MemoryAvailable ?? long.MaxValue;

        // The ring first: its timed runs at N/2 and N (the job's own run warmed the N path), the median run's statistics kept.
        var ringRuns = new List<RingResult>();
        Timing? ringHalf = null;
        var halfRingPattern = settings.Pattern is null || halfInput is null ? null : forPrefix(settings.Pattern, halfInput);
        if (halfInput is not null && half >= settings.Devices && (settings.Pattern is null || halfRingPattern is not null))
        {
            progress?.Report("ring at N/2");
            var halfSettings = Renamed(settings, "half") with { Pattern = halfRingPattern };
            ringHalf = Timing.Of((await RunRing(halfInput, halfSettings, options.Repeats, warm: true, cancellationToken).ConfigureAwait(false)).Select(r => r.WallTime));
        }

        progress?.Report("ring at N");
        ringRuns.AddRange(await RunRing(input, Renamed(settings, "timed"), options.Repeats, warm: false, cancellationToken).ConfigureAwait(false));
        var ringTiming = Timing.Of(ringRuns.Select(r => r.RingTime));
        var wallTiming = Timing.Of(ringRuns.Select(r => r.WallTime));
        var median = ringRuns.OrderBy(r => r.WallTime).ElementAt(ringRuns.Count / 2);

        progress?.Report("verification");
        var verification = await Task.Run(() => Verify(input, settings, ring, options, ringOptions, ringTiming), cancellationToken).ConfigureAwait(false);

        progress?.Report("dense baseline");
        var densePairs = (long)shape.Batch * shape.Heads * shape.SeqLen * shape.SeqLen;
        var denseNeeds = memory.Inputs + JobMemory.DenseBytes(shape);
        var denseFits = JobMemory.DenseScoresFitOneArray(shape) && memory.Required + JobMemory.DenseBytes(shape) <= available;
        BaselineReport dense;
        ComparisonRow denseRow;
        PartialAttention? denseOutput = null;
        if (denseFits)
        {
            var denseHalf = halfInput is null ? null : (await Measure(() => DenseAttention.Compute(halfInput, denseOptions), options.Repeats, warm: true, cancellationToken).ConfigureAwait(false)).Time;
            var (denseResult, denseTime) = await Measure(() => DenseAttention.Compute(input, denseOptions), options.Repeats, warm: halfInput is null, cancellationToken).ConfigureAwait(false);
            denseOutput = denseResult;
            dense = new BaselineReport("dense", 1, 4.0 * shape.HeadDim * densePairs, densePairs, denseTime.Median, new ErrorMetrics(0, 0, 1), DenseAttention.PeakWorkingBytes(shape))
            {
                Timing = denseTime,
            };
            denseRow = Row(dense, denseHalf);
        }
        else
        {
            dense = new BaselineReport("dense", 1, 4.0 * shape.HeadDim * densePairs, densePairs, TimeSpan.Zero, null, denseNeeds) { NeedsBytes = denseNeeds };
            denseRow = Row(dense, null) with { NeedsBytes = denseNeeds };
        }

        var rows = new List<ComparisonRow> { denseRow };
        var sparse = new List<BaselineReport>();
        foreach (var pattern in options.Baselines)
        {
            progress?.Report($"{pattern.Name} baseline");
            var patternOptions = denseOptions with { Pattern = pattern };
            var needs = memory.Inputs + JobMemory.SparseBytes(shape, patternOptions);
            if (memory.Required + needs - memory.Inputs > available)
            {
                var skipped = new BaselineReport(pattern.Name, 0, 0, 0, TimeSpan.Zero, null, needs) { NeedsBytes = needs };
                sparse.Add(skipped);
                rows.Add(Row(skipped, null) with { NeedsBytes = needs });
                continue;
            }

            var halfPattern = halfInput is null ? null : forPrefix(pattern, halfInput);
            var halfTime = halfPattern is null ? null
                : (await Measure(() => SparseAttention.Compute(halfInput!, patternOptions with { Pattern = halfPattern }), options.Repeats, warm: true, cancellationToken).ConfigureAwait(false)).Time;
            var (result, time) = await Measure(() => SparseAttention.Compute(input, patternOptions), options.Repeats, warm: halfPattern is null, cancellationToken).ConfigureAwait(false);
            var baseline = new BaselineReport(
                pattern.Name, result.Density, result.Flops, result.PairsComputed, time.Median,
                denseOutput is null ? null : ErrorMetrics.Compare(result.Result.Output, denseOutput.Output), result.PeakWorkingBytes)
            {
                Timing = time,
            };
            sparse.Add(baseline);
            rows.Add(Row(baseline, halfTime));
        }

        rows.Add(new ComparisonRow(
            "ring", ring.Flops, Density(shape, ringOptions), ring.PeakResidentBytesPerDevice, wallTiming.Median, ringHalf?.Median, Ratio(wallTiming.Median, ringHalf?.Median))
        {
            Timing = wallTiming,
            HalfTiming = ringHalf,
        });

        var chunk = Enumerable.Range(0, settings.Devices).Max(new SequenceLayout(settings.Layout, shape.SeqLen, settings.Devices).Count);
        return new JobReport(
            ring.JobId, shape, settings, SequenceLayout.NameOf(settings.Layout), verification.Result?.Error, dense, sparse, median.Devices,
            median.Overlap, median.Imbalance, median.HandOffs, wallTiming.Median, ringTiming.Median, ring.Flops, ring.PeakResidentBytesPerDevice, rows)
        {
            Verification = verification,
            RingTiming = ringTiming,
            WallTiming = wallTiming,
            Memory = memory,
            LawBytesPerDevice = JobMemory.LawBytesPerDevice(shape, chunk),
            Backward = ring.BackwardDevices is { } backward ? new BackwardReport(ring.BackwardRingTime, backward) : null,
            MedianRun = median,
        };
    }

    /// <summary>
    /// The check asked for, or the default: full when a probe of sampled rows predicts it costs no more than the ring's median
    /// time, else rows:4096. Rows always include each device's first, middle and last token.
    /// </summary>
    private static RingVerification Verify(AttentionInput input, RingJobSettings settings, RingResult ring, ReportOptions options, AttentionOptions ringOptions, Timing ringTiming)
    {
        var threads = options.BaselineThreads;
        var mode = options.Verify;
        string reason;
        double? predicted = null;
        if (mode is null)
        {
            var probe = RowSample.Choose(input.Shape, ringOptions, ProbeRows, settings.PatternSeed + 1, []);
            ReferenceCheck.Verify(input, ringOptions, ring.Output, ring.Lse, probe, 1); // JIT and first touches, untimed
            var started = Stopwatch.GetTimestamp();
            var probed = ReferenceCheck.Verify(input, ringOptions, ring.Output, ring.Lse, probe, 1);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;

            // Seconds per pair of the probe, times the pairs of a full check (the ring's own count: the same mask, tile by tile).
            predicted = probed.Pairs > 0 ? seconds / probed.Pairs * ring.PairsComputed / threads : seconds * input.Shape.Batch * input.Shape.Heads * input.Shape.SeqLen / ProbeRows / threads;
            var ringSeconds = ringTiming.Median.TotalSeconds;
            mode = predicted <= ringSeconds ? VerifyMode.Full : new VerifyMode(VerifyKind.Rows, VerifyMode.DefaultRows);
            reason = string.Create(CultureInfo.InvariantCulture, $"default: full predicted {predicted:G3} s {(mode.Kind == VerifyKind.Full ? "≤" : ">")} ring {ringSeconds:G3} s");
        }
        else
        {
            reason = "asked";
        }

        if (mode.Kind == VerifyKind.None)
        {
            return new RingVerification("none", reason, null, TimeSpan.Zero, predicted);
        }

        var sample = mode.Kind == VerifyKind.Full ? null : RowSample.Choose(input.Shape, ringOptions, mode.Rows, settings.PatternSeed, Boundaries(settings, input.Shape));
        var start = Stopwatch.GetTimestamp();
        var result = ReferenceCheck.Verify(input, ringOptions, ring.Output, ring.Lse, sample, threads);
        return new RingVerification(mode.ToString(), reason, result, Stopwatch.GetElapsedTime(start), predicted);
    }

    /// <summary>Each device's first, middle and last token, and where a zigzag device's back chunk starts.</summary>
    private static IEnumerable<int> Boundaries(RingJobSettings settings, AttentionShape shape)
    {
        var layout = new SequenceLayout(settings.Layout, shape.SeqLen, settings.Devices);
        for (var device = 0; device < settings.Devices; device++)
        {
            var positions = layout.Positions(device);
            yield return positions[0];
            yield return positions[positions.Length / 2];
            yield return positions[^1];
            for (var i = 1; i < positions.Length; i++)
            {
                if (positions[i] != positions[i - 1] + 1)
                {
                    yield return positions[i];
                    yield return positions[i - 1];
                    break; // striped devices have a gap at every token: the first one is enough
                }
            }
        }
    }

    /// <summary>Allowed pairs over the basis pairs, as <see cref="SparseAttentionResult.Density"/> counts them (causal basis when causal).</summary>
    private static double Density(AttentionShape shape, AttentionOptions options)
    {
        var n = (long)shape.SeqLen;
        var causal = options.Causal || options.Pattern is { IsCausal: true };
        var basis = (long)shape.Batch * shape.Heads * (causal ? n * (n + 1) / 2 : n * n);
        long allowed = 0;
        for (var b = 0; b < shape.Batch; b++)
        {
            for (var h = 0; h < shape.Heads; h++)
            {
                allowed += TiledReference.CountAllowedPairs(options.MaskFor(b, h), shape.SeqLen);
                if (options.SameMaskForAllHeads)
                {
                    return (double)allowed * shape.Batch * shape.Heads / basis;
                }
            }
        }

        return (double)allowed / basis;
    }

    // The timed runs fill the comparison table, forward attention against forward baselines: forward only, whatever the job
    // (its own run computed the gradients; a dO made for N would not even fit the N/2 input).
    private static RingJobSettings Renamed(RingJobSettings settings, string suffix) =>
        settings with { JobId = settings.JobId is null ? null : $"{settings.JobId}-{suffix}", Backward = null };

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

    private static ComparisonRow Row(BaselineReport baseline, Timing? half) =>
        new(baseline.Name, baseline.Flops, baseline.Density, baseline.PeakBytes, baseline.Time, half?.Median, Ratio(baseline.Time, half?.Median))
        {
            Timing = baseline.Timing,
            HalfTiming = half,
        };

    private static double? Ratio(TimeSpan time, TimeSpan? halfTime) =>
        halfTime is { } half && half > TimeSpan.Zero && time > TimeSpan.Zero ? time / half : null;

    /// <summary>The ring <paramref name="repeats"/> times (after one untimed run when <paramref name="warm"/>).</summary>
    private async Task<List<RingResult>> RunRing(AttentionInput input, RingJobSettings settings, int repeats, bool warm, CancellationToken cancellationToken)
    {
        if (warm)
        {
            await RingRunner.RunAsync(system, input, Renamed(settings, "warm-up"), null, cancellationToken).ConfigureAwait(false);
        }

        var runs = new List<RingResult>();
        for (var run = 0; run < repeats; run++)
        {
            runs.Add(await RingRunner.RunAsync(system, input, Renamed(settings, run.ToString(CultureInfo.InvariantCulture)), null, cancellationToken).ConfigureAwait(false));
        }

        return runs;
    }

    /// <summary>
    /// <paramref name="work"/> <paramref name="repeats"/> times on the thread pool (after one untimed run when
    /// <paramref name="warm"/>: JIT tiers, thread start-up and fresh pages are paid outside the timings); the last result and the timing.
    /// </summary>
    private static Task<(T Result, Timing Time)> Measure<T>(Func<T> work, int repeats, bool warm, CancellationToken cancellationToken) =>
        Task.Run(
            () =>
            {
                if (warm)
                {
                    work();
                }

                var times = new List<TimeSpan>();
                var result = default(T)!;
                for (var run = 0; run < repeats; run++)
                {
                    var started = Stopwatch.GetTimestamp();
                    result = work();
                    times.Add(Stopwatch.GetElapsedTime(started));
                }

                return (result, Timing.Of(times));
            },
            cancellationToken);
}
