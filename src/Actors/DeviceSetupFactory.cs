using RingActors.Actors.Faults;
using RingActors.Actors.Protocol;
using RingActors.Math;

namespace RingActors.Actors;

/// <summary>
/// The one place a job's <see cref="DeviceSetup"/>s are built, for the first incarnation of every device and for every
/// re-created one, so a recovered device carries every setting of the original (pattern spec and seed, virtual time, phantom,
/// threads, fault plan and trial, slow-device). Only a kill-device fault is not carried over: it struck the first incarnation.
/// </summary>
public static class DeviceSetupFactory
{
    /// <summary>Device <paramref name="device"/>'s setup in incarnation <paramref name="epoch"/> of <paramref name="job"/> under <paramref name="plan"/>.</summary>
    public static DeviceSetup For(RingJob job, FaultPlan? plan, int device, int epoch)
    {
        ArgumentNullException.ThrowIfNull(job);
        var shape = job.Input.Shape;
        return new DeviceSetup(
            job.JobId, device, job.Settings.Devices, shape.SeqLen, AttentionHeads.Of(shape), job.Settings.OptionsFor(job.ThreadsPerDevice),
            job.System.MaxBlocksHeld, job.System.ComputeDispatcher)
        {
            Hooks = HooksFor(job.Settings.Hooks, plan, device, epoch),
            VirtualTime = job.Settings.VirtualTime,
            Phantom = job.Input.IsPhantom,
            PatternSpec = job.Settings.PatternSpec,
            PatternSeed = job.Settings.PatternSeed,
            Faults = plan,
            Trial = job.Settings.Trial,
            Epoch = epoch,
            PartialPrecision = job.Settings.PartialPrecision,
            Backward = job.Settings.Backward is not null,
        };
    }

    /// <summary>The job's test hooks plus the plan's faults on the device: kill at a step (first incarnation only), slow compute.</summary>
    private static DeviceHooks HooksFor(DeviceHooks hooks, FaultPlan? plan, int device, int epoch)
    {
        if (epoch > 0)
        {
            hooks = hooks with { FailingDevice = -1, FailAtStep = -1 };
        }

        if (plan is null)
        {
            return hooks;
        }

        if (epoch == 0 && plan.Faults.OfType<FaultSpec.KillDevice>().Where(k => k.Device == device).OrderBy(k => k.Step).FirstOrDefault() is { } kill)
        {
            hooks = hooks with { FailingDevice = device, FailAtStep = kill.Step, StopInsteadOfThrowing = true };
        }

        var slow = plan.Faults.OfType<FaultSpec.SlowDevice>().Where(s => s.Device == device).Select(s => s.Factor).DefaultIfEmpty(1).Aggregate((a, b) => a * b);
        return slow > 1 ? hooks with { SlowFactor = slow } : hooks;
    }
}
