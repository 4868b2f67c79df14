using RingActors.Math;
using RingActors.Math.Masks;

namespace RingActors.Actors;

/// <summary>
/// What to compare the ring with: sparse <paramref name="Baselines"/> (each run single-process with the job's causal flag),
/// the threads the baselines use, and whether to measure every method again at N/2 for the scalability column.
/// </summary>
/// <param name="SparseKernel">
/// Hook computing a sparse baseline: (input, options with the pattern) → (result, work). Defaults to
/// <see cref="BlockwiseAttention.Compute"/>, which skips empty tiles; a dedicated sparse kernel can be plugged in here.
/// </param>
public sealed record ReportOptions(
    IReadOnlyList<AttentionPattern> Baselines,
    int BaselineThreads = 1,
    bool MeasureScaling = true,
    Func<AttentionInput, AttentionOptions, (PartialAttention Result, BlockWork Work)>? SparseKernel = null)
{
    public static readonly ReportOptions Default = new([]);
}

/// <summary>One single-process baseline (dense or sparse) measured on the job's input.</summary>
/// <param name="Name">"dense" or the pattern's name (e.g. <c>window:256</c>).</param>
/// <param name="Density">Allowed pairs / all N² pairs (per batch and head): the method's scope.</param>
/// <param name="Flops">Measured work: 4·d per pair the kernel computed (dense computes every pair).</param>
/// <param name="PairsComputed">Pairs the kernel computed (whole tiles for blockwise kernels).</param>
/// <param name="Time">Wall time of the computation at N.</param>
/// <param name="ErrorVsDense">Output compared with dense attention (zero for dense itself).</param>
/// <param name="PeakBytes">Working bytes at the peak: for dense the inputs plus the N×N score matrix, for blockwise kernels the inputs and outputs.</param>
public sealed record BaselineReport(string Name, double Density, double Flops, long PairsComputed, TimeSpan Time, ErrorMetrics ErrorVsDense, long PeakBytes);

/// <summary>
/// A row of the seed's comparison table: complexity as measured FLOPs, scope as density, memory as peak bytes per device
/// (one device for single-process methods), scalability as measured time at N and at N/2 and their ratio
/// (≈ 4 for quadratic cost, ≈ 2 for linear).
/// </summary>
public sealed record ComparisonRow(string Method, double Flops, double Density, long PeakBytesPerDevice, TimeSpan Time, TimeSpan? HalfTime, double? ScalingRatio);

/// <summary>
/// The report of one ring job against its baselines. No formatting here: the Host renders it as tables or JSON.
/// </summary>
/// <param name="RingError">The ring's output against dense attention with the ring's own mask (causal and pattern).</param>
/// <param name="Dense">The dense baseline (the job's causal flag, no pattern).</param>
/// <param name="Sparse">Each requested sparse baseline.</param>
/// <param name="Devices">Per-device statistics of the ring.</param>
/// <param name="Overlap">Share of hand-off time hidden behind compute (see <see cref="RingResult.Overlap"/>).</param>
/// <param name="Imbalance">max / mean pairs computed per device.</param>
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
