using RingActors.Actors.Faults;
using RingActors.Math.Verification;

namespace RingActors.Host.Reporting;

/// <summary>One trial of a fault experiment: whether the job finished, its error against dense, and what the faults cost.</summary>
/// <param name="Failure">The job's one-line failure reason, or null when it finished.</param>
/// <param name="ExtraTime">Ring time beyond the fault-free baseline (negative means noise).</param>
public sealed record ExperimentTrial(
    int Trial,
    bool Exact,
    double MaxAbsError,
    double RelativeError,
    TimeSpan RingTime,
    TimeSpan ExtraTime,
    FaultReport? Faults,
    string? Failure,
    GradientErrors? Gradients = null);

/// <summary>A whole fault experiment: the mask (<c>causal</c> or <c>no-causal</c>), the plan, the fault-free baseline and every trial.</summary>
public sealed record ExperimentReport(string Mask, string Plan, int Seed, string Job, TimeSpan BaselineRingTime, IReadOnlyList<ExperimentTrial> Trials)
{
    /// <summary>Relative tolerance of the output (fp32 or bf16 partials).</summary>
    public double OutputTolerance { get; init; } = RunReportView.Tolerance;

    /// <summary>With --backward: the gradients' reference and relative tolerance; null for a forward-only experiment.</summary>
    public (string Reference, double Tolerance)? Backward { get; init; }

    public int ExactCount => Trials.Count(t => t.Exact);

    public IReadOnlyList<ExperimentTrial> Failed => Trials.Where(t => t.Failure is not null).ToList();

    /// <summary>Median and worst extra time over the trials that finished (zero when none did).</summary>
    public (TimeSpan Median, TimeSpan Worst) ExtraTime
    {
        get
        {
            var extra = Trials.Where(t => t.Failure is null).Select(t => t.ExtraTime).Order().ToList();
            return extra.Count == 0 ? (TimeSpan.Zero, TimeSpan.Zero) : (extra[extra.Count / 2], extra[^1]);
        }
    }
}
