using System.Text.Json;
using System.Text.Json.Serialization;

namespace RingActors.Host.Benchmarks;

/// <summary>One cell of <c>bench kernels</c>: GFLOP/s counted as 4·N²·d, causal runs too (ANCHORS.md §5).</summary>
/// <param name="Isa"><c>avx512</c> or <c>avx2</c>: the vector path the kernel ran.</param>
/// <param name="PeakShare">Non-causal GFLOP/s over <paramref name="PeakGflops"/>.</param>
/// <param name="NumpyGflops">numpy's dense attention on an optimised BLAS, or null when there is no such baseline.</param>
/// <param name="BackwardGflops">The backward kernel (dQ, dK, dV) non-causal, counted as 10·N²·d (ANCHORS.md §7); null if not run.</param>
/// <param name="BackwardPeakShare">Backward GFLOP/s over <paramref name="PeakGflops"/>.</param>
/// <param name="PeakGflops">
/// The FMA peak this cell is a share of: the best of the probe trials run between the cell's own kernel runs (so both
/// rates saw the same load), never below the run's OpenBLAS sgemm on the same path and thread count.
/// </param>
/// <param name="NumpyCoreType">
/// The OPENBLAS_CORETYPE numpy's attention ran under for this cell (<c>SkylakeX</c>, <c>Haswell</c>), or null for
/// OpenBLAS's own choice.
/// </param>
public sealed record KernelCell(
    int N, int D, int Threads, string Isa, double Gflops, double PeakShare, double CausalGflops, double? NumpyGflops, double? BackwardGflops = null, double? BackwardPeakShare = null, double PeakGflops = 0, string? NumpyCoreType = null);

/// <summary>
/// The FMA peak of one path and thread count: what the probe measured, what OpenBLAS sgemm reached on the same path
/// (null without numpy), and the peak the cells are divided by — the larger, since a peak below a measured sgemm is wrong.
/// <see cref="SgemmCoreType"/> is the OPENBLAS_CORETYPE that sgemm ran under, or null for OpenBLAS's own choice.
/// </summary>
public sealed record KernelPeak(string Isa, int Threads, double ProbeGflops, double? SgemmGflops, string? SgemmCoreType = null)
{
    public double Gflops => PeakOf(ProbeGflops);

    /// <summary>The peak a cell whose own probe trials reached <paramref name="probeGflops"/> is a share of: never below sgemm.</summary>
    public double PeakOf(double probeGflops) => System.Math.Max(probeGflops, SgemmGflops ?? 0);

    public bool ProbeBelowSgemm => SgemmGflops > ProbeGflops;
}

/// <summary>One target of issue 12 checked over the cells it applies to: met when its worst cell meets it.</summary>
public sealed record KernelTarget(string Name, string Isa, double Worst, double Bound, string WorstCell)
{
    public bool Met => Worst >= Bound;
}

/// <summary>Everything <c>bench kernels</c> measured, in the form <c>--json</c> writes.</summary>
/// <param name="Numpy">numpy's BLAS as the native rows' baseline ran it: under <paramref name="NumpyCoreType"/> when set.</param>
/// <param name="NumpyNote">How the baseline ran, or why there is none; says what OpenBLAS chose when it was overridden.</param>
/// <param name="NumpyCoreType">
/// The OPENBLAS_CORETYPE the native rows' numpy and sgemm ran under because OpenBLAS chose kernels narrower than this
/// CPU (<see cref="OpenBlasCore"/>), or null when OpenBLAS's own choice stood.
/// </param>
public sealed record KernelBenchResult(string Cpu, IReadOnlyList<KernelPeak> Peaks, IReadOnlyList<KernelCell> Cells, NumpyInfo? Numpy, string? NumpyNote, string? NumpyCoreType = null)
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// The targets: one thread ≥ 65% of the FMA peak, two threads ≥ 60%, ≥ 2× numpy (when numpy is a baseline),
    /// causal ≥ 1.8× non-causal; the backward on one thread ≥ 50% of the FMA peak (issue 13); each per instruction set, as its worst cell.
    /// </summary>
    public IReadOnlyList<KernelTarget> Targets()
    {
        var targets = new List<KernelTarget>();
        foreach (var isa in Cells.Select(c => c.Isa).Distinct())
        {
            var cells = Cells.Where(c => c.Isa == isa).ToList();
            Add("one thread, share of FMA peak", isa, cells.Where(c => c.Threads == 1), c => c.PeakShare, 0.65);
            Add("two threads, share of FMA peak", isa, cells.Where(c => c.Threads == 2), c => c.PeakShare, 0.60);
            Add("kernel / numpy", isa, cells.Where(c => c.NumpyGflops is > 0), c => c.Gflops / c.NumpyGflops!.Value, 2.0);
            Add("causal / non-causal", isa, cells, c => c.CausalGflops / c.Gflops, 1.8);
            Add("backward one thread, share of FMA peak", isa, cells.Where(c => c.Threads == 1 && c.BackwardPeakShare is not null), c => c.BackwardPeakShare!.Value, 0.50);
        }

        return targets;

        void Add(string name, string isa, IEnumerable<KernelCell> cells, Func<KernelCell, double> value, double bound)
        {
            var worst = cells.OrderBy(value).FirstOrDefault();
            if (worst is not null)
            {
                targets.Add(new KernelTarget(name, isa, value(worst), bound, $"N={worst.N} d={worst.D} threads={worst.Threads}"));
            }
        }
    }

    /// <summary>The result as JSON (camelCase), with the targets checked beside the cells.</summary>
    public string ToJson() => JsonSerializer.Serialize(new { Cpu, Peaks, Cells, Numpy, NumpyNote, NumpyCoreType, Targets = Targets() }, Options);

    public static KernelBenchResult FromJson(string json) =>
        JsonSerializer.Deserialize<KernelBenchResult>(json, Options) ?? throw new InvalidDataException("empty bench result");
}
