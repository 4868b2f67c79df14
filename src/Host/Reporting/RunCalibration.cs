using Akka.Actor;
using RingActors.Actors;
using RingActors.Actors.Devices;
using RingActors.Actors.Protocol;
using RingActors.Math;
using RingActors.Math.Modelling;

namespace RingActors.Host.Reporting;

/// <summary>
/// A prediction of a measured local run: the same job run again as a phantom in virtual time with <see cref="Profile"/>,
/// its total next to the run's measured ring time, and the ratio predicted / measured (1 is a perfect model).
/// </summary>
public sealed record CalibrationLine(
    DeviceProfile Profile,
    double PredictedSeconds,
    double MeasuredSeconds,
    double PredictedOverlap,
    double MeasuredOverlap,
    double PredictedComputeSeconds,
    double MeasuredComputeSeconds)
{
    public double Ratio => PredictedSeconds / MeasuredSeconds;

    /// <summary>The ring time of every run the measured one is the median of (by ring time), in the order they ran.</summary>
    public IReadOnlyList<double> MeasuredRunSeconds { get; init; } = [];
}

/// <summary>
/// Calibration of a real local run (issue 6): the job predicted with two profiles of this machine and compared with what the
/// run measured on the wall clock.
/// <list type="bullet">
/// <item><c>local-run</c>, calibrated from the run itself: F = the exact FLOPs of the job (the pairs the mask allows) over the
/// kernel seconds the devices measured, and an in-process hand-off that moves a reference, so costs a latency (the quickest
/// hand-off the run measured: the others include waits for a credit or a busy mailbox) and no bandwidth (1e15 B/s). Its compute matches the run's by construction; the ratio then
/// tests the schedule: waits, credits, overlap.</item>
/// <item><c>local</c>, measured now by <see cref="PlanLocalProfile"/>: one kernel thread on this job's blocks, the devices'
/// share of the cores (<see cref="HostSharing"/>) and an in-process hand-off on a ring with next to no compute — an
/// independent prediction.</item>
/// </list>
/// </summary>
public static class RunCalibration
{
    /// <summary>Bandwidth of an in-process hand-off: a reference moves, not the bytes.</summary>
    public const double InProcessBandwidth = 1e15;

    /// <summary>The <c>local-run</c> profile calibrated from <paramref name="ring"/>'s measured timeline.</summary>
    public static DeviceProfile FromRun(AttentionInput input, RingResult ring, HostSharing host)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(ring);
        var measured = ring.MeasuredTimeline ?? throw new ArgumentException("the run recorded no timeline", nameof(ring));
        var flops = ExactFlops(input.Shape, ring.Settings);
        var kernelSeconds = measured.ComputeSeconds;
        var handOffs = measured.Devices.SelectMany(d => d.Intervals).Where(i => i.Kind == IntervalKind.Communicate).Select(i => i.Duration).Order().ToArray();
        var latency = handOffs.Length == 0 ? 0 : handOffs[0];
        // The devices' kernel seconds are timed on the compute dispatcher's threads, each block at one thread's rate (the
        // dispatcher has no more threads than cores); a device's long-run rate is that times its share of the host.
        var threadGflops = flops > 0 && kernelSeconds > 0 ? flops / kernelSeconds / 1e9 / ring.Settings.ThreadsPerDevice.GetValueOrDefault(host.ThreadsPerDevice) : 1;
        var gflops = host.DeviceFlops(threadGflops, ring.Settings.Devices);
        return ProfileCatalog.Local(gflops, InProcessBandwidth, latency, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes) with
        {
            Name = "local-run",
            Source = FormattableString.Invariant(
                $"calibrated from this run: {flops:G4} exact FLOPs in {kernelSeconds:G4} s of kernel = {threadGflops:G4} GFLOP/s per kernel thread; {ring.Settings.Devices} device(s) share {host.Cores} core(s) through {host.ComputeThreads} compute thread(s): {gflops:G4} GFLOP/s per device; in-process hand-off: latency {latency * 1e6:G4} µs (the quickest of {handOffs.Length}), bandwidth {InProcessBandwidth:G1} B/s (a reference moves)"),
        };
    }

    /// <summary>Runs the job of <paramref name="ring"/> again as a phantom in virtual time on <paramref name="profile"/> (fp32 hand-offs) and compares.</summary>
    public static async Task<CalibrationLine> PredictAsync(ActorSystem system, AttentionInput input, RingResult ring, DeviceProfile profile, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ring);
        var measured = ring.MeasuredTimeline ?? throw new ArgumentException("the run recorded no timeline", nameof(ring));
        var job = ring.Settings with { JobId = null, VirtualTime = new VirtualTimeSettings(profile, ElementType.Fp32) };
        var phantom = await RingRunner.RunAsync(system, AttentionInput.Phantom(input.Shape), job, null, cancellationToken).ConfigureAwait(false);
        var predicted = phantom.VirtualTimeline!;
        return new CalibrationLine(profile, predicted.TotalSeconds, measured.TotalSeconds, predicted.Overlap, measured.Overlap, predicted.ComputeSeconds, measured.ComputeSeconds);
    }

    /// <summary>The exact FLOPs of the job: every (device, block) pair's allowed pairs, 4·d each.</summary>
    public static double ExactFlops(AttentionShape shape, RingJobSettings settings)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(settings);
        var layout = new Actors.SequenceLayout(settings.Layout, shape.SeqLen, settings.Devices);
        var heads = AttentionHeads.Of(shape);
        var options = settings.OptionsFor(1);
        double total = 0;
        for (var r = 0; r < settings.Devices; r++)
        {
            var queries = layout.Positions(r);
            for (var origin = 0; origin < settings.Devices; origin++)
            {
                total += PairCounting.Flops(options, heads, queries, layout.Positions(origin));
            }
        }

        return total;
    }
}
