using RingActors.Actors.Protocol;
using RingActors.Math;
using RingActors.Math.Masks;
using RingActors.Math.Verification;

namespace RingActors.Actors;

/// <summary>
/// What to compare the ring with: sparse <paramref name="Baselines"/> (each run single-process by
/// <see cref="SparseAttention.Compute"/> with the job's causal flag), the threads every baseline uses, and whether to measure
/// every method again on the first N/2 tokens for the scalability column.
/// </summary>
/// <param name="PatternForPrefix">
/// The pattern to use at N/2 for a baseline (or the ring's own pattern): given the pattern and the N/2 input, returns the
/// pattern to run, or null to leave that method's N/2 cell empty. Null (the default) keeps a pattern that holds for any length
/// and skips one built for N (a random table, a block layout, top-k); the Host can rebuild those with PatternSpec.Parse instead.
/// </param>
/// <param name="Verify">How to check the ring against the float64 reference; null: full when predicted to cost no more than the ring, else rows:4096.</param>
/// <param name="Repeats">Timed runs per measurement (≥ 3), each after a warm-up of the same path; the report gives their median and spread.</param>
/// <param name="MemoryAvailable">Bytes the job may use (the OS's available memory); a baseline that would not fit is reported, not run. Null: no limit.</param>
public sealed record ReportOptions(
    IReadOnlyList<AttentionPattern> Baselines,
    int BaselineThreads = 1,
    bool MeasureScaling = true,
    Func<AttentionPattern, AttentionInput, AttentionPattern?>? PatternForPrefix = null,
    VerifyMode? Verify = null,
    int Repeats = 3,
    long? MemoryAvailable = null)
{
    public static readonly ReportOptions Default = new([]);
}

/// <summary>The median of several timed runs and their spread.</summary>
public sealed record Timing(TimeSpan Median, TimeSpan Min, TimeSpan Max, int Runs)
{
    /// <summary>The median (the mean of the middle two for an even count), minimum and maximum of <paramref name="times"/>.</summary>
    public static Timing Of(IEnumerable<TimeSpan> times)
    {
        ArgumentNullException.ThrowIfNull(times);
        var sorted = times.Order().ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("a timing needs at least one run", nameof(times));
        }

        var middle = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        return new Timing(median, sorted[0], sorted[^1], sorted.Length);
    }

    /// <summary>(max − min) / median: how far apart the runs were.</summary>
    public double Spread => Median > TimeSpan.Zero ? (Max - Min) / Median : 0;
}

/// <summary>How the ring's output was checked against the float64 tiled reference, and what the check cost.</summary>
/// <param name="Mode">full, rows:K or none, as run.</param>
/// <param name="Reason">Why this mode: asked for, or the default's comparison of predicted costs.</param>
/// <param name="Result">What the check found; null for none.</param>
/// <param name="Time">Wall time of the check.</param>
/// <param name="PredictedFullSeconds">For the default: the full check's predicted time (from a probe of sampled rows).</param>
public sealed record RingVerification(string Mode, string Reason, VerificationResult? Result, TimeSpan Time, double? PredictedFullSeconds)
{
    /// <summary>The ring is exact: its fp32 output must be within this relative (Frobenius) error of the float64 reference.</summary>
    public const double Tolerance = 1e-5;

    /// <summary>True when checked and within <see cref="Tolerance"/> (and no row is wrong); false when not checked.</summary>
    public bool Exact => Result?.Passes(Tolerance) ?? false;
}

/// <summary>One single-process baseline (dense or sparse) measured on the job's input.</summary>
/// <param name="Name">"dense" or the pattern's name (e.g. <c>window:256</c>).</param>
/// <param name="Density">Allowed pairs over the basis pairs (all N², or the causal N(N+1)/2 when causal) per batch and head: the method's scope, 1 for dense.</param>
/// <param name="Flops">Measured work: 4·d per pair the kernel computed (dense computes every one of the N² pairs).</param>
/// <param name="PairsComputed">Pairs the kernel computed (whole 64×128 tiles for the blockwise kernel).</param>
/// <param name="Time">Wall time of the computation at N.</param>
/// <param name="ErrorVsDense">Output against dense attention (zero for dense itself); for a sparse baseline this is the price of the pattern, not a numerical error.</param>
/// <param name="PeakBytes">Working bytes at the peak: dense holds the inputs and an N×N score matrix, sparse its inputs, outputs, tables and tiles.</param>
/// <remarks>A baseline that did not fit the memory available has <see cref="NeedsBytes"/> set, zero time and no error.</remarks>
public sealed record BaselineReport(string Name, double Density, double Flops, long PairsComputed, TimeSpan Time, ErrorMetrics? ErrorVsDense, long PeakBytes)
{
    /// <summary>The median and spread behind <see cref="Time"/>.</summary>
    public Timing? Timing { get; init; }

    /// <summary>Set when the baseline was not run because it would not fit: the bytes it needs (inputs included).</summary>
    public long? NeedsBytes { get; init; }
}

/// <summary>
/// A row of the seed's comparison table: complexity as measured FLOPs, scope as density, memory as peak bytes per device
/// (the one process for single-process methods), scalability as measured time at N and at N/2 and their ratio
/// time(N) / time(N/2) (≈ 4 for quadratic cost, ≈ 2 for linear); null where N/2 was not measured.
/// With <see cref="ReportOptions.MeasureScaling"/> every time is taken after a warm-up, N/2 first; the ring's N time then
/// comes from a second, warm run of the job, otherwise it is the job's own wall time.
/// </summary>
public sealed record ComparisonRow(string Method, double Flops, double Density, long PeakBytesPerDevice, TimeSpan Time, TimeSpan? HalfTime, double? ScalingRatio)
{
    /// <summary>The median and spread behind <see cref="Time"/> and <see cref="HalfTime"/>.</summary>
    public Timing? Timing { get; init; }

    public Timing? HalfTiming { get; init; }

    /// <summary>Set when the method did not fit the memory available: the bytes it needs.</summary>
    public long? NeedsBytes { get; init; }
}

/// <summary>The report of one ring job against its baselines. Nothing is formatted here: the Host renders it as tables or JSON.</summary>
/// <param name="Layout">The layout's name (contiguous, striped, zigzag).</param>
/// <param name="RingError">The ring's output against the float64 tiled reference under the ring's own mask (causal and pattern), over the rows checked; null when not verified.</param>
/// <param name="Dense">The dense baseline (the job's causal flag, no pattern).</param>
/// <param name="Sparse">Each requested sparse baseline, in the order asked.</param>
/// <param name="Devices">Per-device statistics of the ring.</param>
/// <param name="Overlap">Share of hand-off time hidden behind compute (defined on <see cref="RingResult.Overlap"/>).</param>
/// <param name="Imbalance">max / mean pairs computed per device.</param>
/// <param name="HandOffs">Blocks handed on in the job: P·(P − 1).</param>
/// <param name="WallTime">The ring job from start to reassembled result (median of the timed runs).</param>
/// <param name="RingTime">The ring's own part: from the ring's start to the last device's result (median of the timed runs).</param>
/// <param name="RingFlops">4·d per pair the devices computed.</param>
/// <param name="RingPeakBytesPerDevice">The largest peak resident bytes of any device.</param>
/// <param name="Comparison">Rows: dense, each sparse baseline, ring.</param>
public sealed record JobReport(
    string JobId,
    AttentionShape Shape,
    RingJobSettings Settings,
    string Layout,
    ErrorMetrics? RingError,
    BaselineReport Dense,
    IReadOnlyList<BaselineReport> Sparse,
    IReadOnlyList<DeviceStats> Devices,
    double Overlap,
    double Imbalance,
    int HandOffs,
    TimeSpan WallTime,
    TimeSpan RingTime,
    double RingFlops,
    long RingPeakBytesPerDevice,
    IReadOnlyList<ComparisonRow> Comparison)
{
    /// <summary>The mask in every verb's words: causal or no-causal (a pattern restricting the ring is named apart).</summary>
    public string Mask => Settings.Causal ? "causal" : "no-causal";

    /// <summary>How the ring was verified; null for a report built without a check.</summary>
    public RingVerification? Verification { get; init; }

    /// <summary>Medians and spreads behind <see cref="RingTime"/> and <see cref="WallTime"/>.</summary>
    public Timing? RingTiming { get; init; }

    public Timing? WallTiming { get; init; }

    /// <summary>The memory estimated before the job ran.</summary>
    public JobMemory? Memory { get; init; }

    /// <summary>The 6·b·c·h law's prediction of one device's bytes (fp32) for the largest chunk, next to <see cref="RingPeakBytesPerDevice"/>.</summary>
    public long LawBytesPerDevice { get; init; }

    /// <summary>Whether the ring was verified and exact.</summary>
    public bool Exact => Verification?.Exact ?? false;

    /// <summary>The backward pass of the job's own run (the timed runs are forward only); null for a forward-only job.</summary>
    public BackwardReport? Backward { get; init; }

    /// <summary>
    /// The timed run at N (forward only) whose wall time is the median, the run the report's device statistics come from; its
    /// forward timeline is the one to draw and to calibrate against. The job's own run is the first of the process and pays
    /// for JIT compilation (the default job's took 0.23 s where the timed runs took 0.15 s). Null without timed runs.
    /// </summary>
    public RingResult? MedianRun { get; init; }
}

/// <summary>
/// The backward pass of a job's run: from the backward's start to the last device's gradients, and what each device did
/// in it (pairs and 10·d FLOPs per pair, hand-offs, contributions sent home and summed).
/// </summary>
public sealed record BackwardReport(TimeSpan RingTime, IReadOnlyList<DeviceStats> Devices)
{
    public double Flops => Devices.Sum(d => d.Flops);

    public int HandOffs => Devices.Sum(d => d.HandOffsSent);

    public long PeakBytesPerDevice => Devices.Count == 0 ? 0 : Devices.Max(d => d.PeakResidentBytes);

    public int ContributionsSent => Devices.Sum(d => d.ContributionsSent);

    public int ContributionsSummed => Devices.Sum(d => d.ContributionsSummed);
}
