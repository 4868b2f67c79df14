using System.Diagnostics;
using RingActors.Actors;
using RingActors.Host.Cli;
using RingActors.Math;
using RingActors.Math.Verification;

namespace RingActors.Host.Reporting;

/// <summary>
/// The ring's dQ, dK and dV against a float64 reference: which reference and why, the errors of each, the tolerance of the
/// partial precision, and what the check cost. <see cref="Errors"/> is null when not verified (<c>--verify none</c>).
/// </summary>
public sealed record GradientVerification(string Reference, string Reason, PartialPrecision Precision, GradientErrors? Errors, TimeSpan Time)
{
    public double Tolerance => Verdicts.Gradient(Precision);

    /// <summary>Every gradient checked and within <see cref="Tolerance"/>.</summary>
    public bool Exact => Errors is { } e && Verdicts.GradientExact(e.Queries, Precision) && Verdicts.GradientExact(e.Keys, Precision) && Verdicts.GradientExact(e.Values, Precision);
}

/// <summary>Checks the gradients a backward ring returned, with the reference <c>--verify</c> asks for.</summary>
public static class GradientReport
{
    /// <summary>
    /// Query and key rows the sampled reference checks by default: a key row costs H/Hkv times a query row (every query head
    /// of its group, every query), so fewer than the forward's 4096 keep the check within seconds at N = 4096.
    /// </summary>
    public const int DefaultRows = 1024;

    /// <summary>
    /// <c>none</c>: nothing; <c>rows:K</c>: <see cref="BackwardCheck.Sampled"/> with K query and K key rows; <c>full</c> and the
    /// default: the dense oracle <see cref="ReferenceBackward"/> when affordable (<see cref="BackwardCheck.DenseAffordable"/>),
    /// else the sampled reference on every row (<c>full</c>) or on <see cref="DefaultRows"/> rows (the default).
    /// </summary>
    /// <summary>
    /// The gradients of a backward job (null for a forward-only one). A backward job whose result has none fails in one line
    /// (exit 1) as soon as the ring returns, rather than after the report's timed runs: the device actors did not run it.
    /// </summary>
    public static AttentionGradients? RequireGradients(RingJobSettings job, RingResult ring)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(ring);
        return job.Backward is null ? ring.Gradients : ring.Gradients ?? throw new CommandFailedException(
            $"ring job {ring.JobId} returned no gradients: this build's device actors do not run the backward pass", UserError.FailedExitCode);
    }

    public static GradientVerification Verify(AttentionInput input, RingJobSettings job, RingResult ring, VerifyMode? mode, int threads)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(ring);
        var outputGradient = job.Backward?.OutputGradient ?? throw new ArgumentException("the job ran no backward pass", nameof(job));

        var gradients = RequireGradients(job, ring)!;
        if (mode is { Kind: VerifyKind.None })
        {
            return new GradientVerification("none", "--verify none", job.PartialPrecision, null, TimeSpan.Zero);
        }

        var options = job.OptionsFor(threads);
        var shape = input.Shape;
        var started = Stopwatch.GetTimestamp();
        GradientErrors errors;
        string reference, reason;
        if (mode is { Kind: VerifyKind.Rows } rows)
        {
            errors = BackwardCheck.Sampled(input, options, outputGradient, gradients, rows.Rows, job.PatternSeed, threads);
            (reference, reason) = ($"sampled float64 reference, {rows.Rows} query and key rows", "asked");
        }
        else if (BackwardCheck.DenseAffordable(shape))
        {
            errors = BackwardCheck.Dense(input, options, outputGradient, gradients);
            (reference, reason) = ("dense float64 oracle (ReferenceBackward)", $"B·H·N²·d ≤ {BackwardCheck.DenseBudget:N0}");
        }
        else
        {
            var count = mode is { Kind: VerifyKind.Full } ? shape.Batch * shape.Heads * shape.SeqLen : DefaultRows;
            errors = BackwardCheck.Sampled(input, options, outputGradient, gradients, count, job.PatternSeed, threads);
            reference = $"sampled float64 reference, {count} query and key rows";
            reason = $"dense oracle unaffordable (B·H·N²·d > {BackwardCheck.DenseBudget:N0}){(mode is null ? ", default" : ", --verify full: every row")}";
        }

        return new GradientVerification(reference, reason, job.PartialPrecision, errors, Stopwatch.GetElapsedTime(started));
    }
}
