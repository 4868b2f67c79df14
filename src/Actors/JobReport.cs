using RingActors.Actors.Protocol;
using RingActors.Math;
using RingActors.Math.Masks;

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
public sealed record ReportOptions(
    IReadOnlyList<AttentionPattern> Baselines,
    int BaselineThreads = 1,
    bool MeasureScaling = true,
    Func<AttentionPattern, AttentionInput, AttentionPattern?>? PatternForPrefix = null)
{
    public static readonly ReportOptions Default = new([]);
}

/// <summary>One single-process baseline (dense or sparse) measured on the job's input.</summary>
/// <param name="Name">"dense" or the pattern's name (e.g. <c>window:256</c>).</param>
/// <param name="Density">Allowed pairs over the basis pairs (all N², or the causal N(N+1)/2 when causal) per batch and head: the method's scope, 1 for dense.</param>
/// <param name="Flops">Measured work: 4·d per pair the kernel computed (dense computes every one of the N² pairs).</param>
/// <param name="PairsComputed">Pairs the kernel computed (whole 64×128 tiles for the blockwise kernel).</param>
/// <param name="Time">Wall time of the computation at N.</param>
/// <param name="ErrorVsDense">Output against dense attention (zero for dense itself); for a sparse baseline this is the price of the pattern, not a numerical error.</param>
/// <param name="PeakBytes">Working bytes at the peak: dense holds the inputs and an N×N score matrix, sparse its inputs, outputs, tables and tiles.</param>
public sealed record BaselineReport(string Name, double Density, double Flops, long PairsComputed, TimeSpan Time, ErrorMetrics ErrorVsDense, long PeakBytes);

/// <summary>
/// A row of the seed's comparison table: complexity as measured FLOPs, scope as density, memory as peak bytes per device
/// (the one process for single-process methods), scalability as measured time at N and at N/2 and their ratio
/// time(N) / time(N/2) (≈ 4 for quadratic cost, ≈ 2 for linear); null where N/2 was not measured.
/// With <see cref="ReportOptions.MeasureScaling"/> every time is taken after a warm-up, N/2 first; the ring's N time then
/// comes from a second, warm run of the job, otherwise it is the job's own wall time.
/// </summary>
public sealed record ComparisonRow(string Method, double Flops, double Density, long PeakBytesPerDevice, TimeSpan Time, TimeSpan? HalfTime, double? ScalingRatio);

/// <summary>The report of one ring job against its baselines. Nothing is formatted here: the Host renders it as tables or JSON.</summary>
/// <param name="Layout">The layout's name (contiguous, striped, zigzag).</param>
/// <param name="RingError">The ring's output against dense attention under the ring's own mask (causal and pattern): fp32 round-off only.</param>
/// <param name="Dense">The dense baseline (the job's causal flag, no pattern).</param>
/// <param name="Sparse">Each requested sparse baseline, in the order asked.</param>
/// <param name="Devices">Per-device statistics of the ring.</param>
/// <param name="Overlap">Share of hand-off time hidden behind compute (defined on <see cref="RingResult.Overlap"/>).</param>
/// <param name="Imbalance">max / mean pairs computed per device.</param>
/// <param name="HandOffs">Blocks handed on in the job: P·(P − 1).</param>
/// <param name="WallTime">The ring job from start to reassembled result.</param>
/// <param name="RingTime">The ring's own part: from the ring's start to the last device's result.</param>
/// <param name="RingFlops">4·d per pair the devices computed.</param>
/// <param name="RingPeakBytesPerDevice">The largest peak resident bytes of any device.</param>
/// <param name="Comparison">Rows: dense, each sparse baseline, ring.</param>
public sealed record JobReport(
    string JobId,
    AttentionShape Shape,
    RingJobSettings Settings,
    string Layout,
    ErrorMetrics RingError,
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
    IReadOnlyList<ComparisonRow> Comparison);
