using RingActors.Actors;
using RingActors.Math;
using RingActors.Math.Verification;

namespace RingActors.Host.Reporting;

/// <summary>
/// When a ring's output and gradients count as exact, per partial precision. Fp32 partials: the output within 1e-5 relative
/// of the float64 reference (no row over 1e-3), each gradient within <see cref="Fp32Gradient"/>. Bf16 partials are rounded
/// to 8 mantissa bits (unit round-off 2⁻⁹ ≈ 2e-3) once per block, so they have tolerances of their own.
/// </summary>
public static class Verdicts
{
    /// <summary>dQ, dK and dV in fp32: each within this relative (Frobenius) error of the float64 oracle.</summary>
    public const double Fp32Gradient = 1e-5;

    /// <summary>Output with bf16 partials: relative error; a few unit round-offs of bf16.</summary>
    public const double Bf16Output = 1e-2;

    /// <summary>Output with bf16 partials: no checked row's own relative error beyond this.</summary>
    public const double Bf16Row = 5e-2;

    /// <summary>dQ, dK and dV with bf16 contributions: relative error.</summary>
    public const double Bf16Gradient = 2e-2;

    /// <summary>The relative tolerance of the output under <paramref name="precision"/>.</summary>
    public static double Output(PartialPrecision precision) => precision == PartialPrecision.Bf16 ? Bf16Output : RingVerification.Tolerance;

    /// <summary>The worst-row tolerance of the output under <paramref name="precision"/>.</summary>
    public static double Row(PartialPrecision precision) => precision == PartialPrecision.Bf16 ? Bf16Row : VerificationResult.RowTolerance;

    /// <summary>The relative tolerance of each gradient under <paramref name="precision"/>.</summary>
    public static double Gradient(PartialPrecision precision) => precision == PartialPrecision.Bf16 ? Bf16Gradient : Fp32Gradient;

    /// <summary>Whether the forward verification passed under <paramref name="precision"/>'s tolerances (false when not verified).</summary>
    public static bool OutputExact(JobReport report, PartialPrecision precision)
    {
        ArgumentNullException.ThrowIfNull(report);
        return precision == PartialPrecision.Fp32 ? report.Exact
            : report.Verification?.Result is { } result && result.Error.RelativeError <= Bf16Output && result.WorstRowError <= Bf16Row;
    }

    /// <summary>Whether one gradient's error is within <paramref name="precision"/>'s tolerance.</summary>
    public static bool GradientExact(ErrorMetrics error, PartialPrecision precision) => error.RelativeError <= Gradient(precision);
}
