using RingActors.Actors;
using RingActors.Actors.Protocol;
using RingActors.Math;
using RingActors.Math.Modelling;

namespace RingActors.Host.Reporting;

/// <summary>
/// <c>plan --actors</c>: the plan's ring run through the real actor protocol with phantom tensors (shapes only) in virtual
/// time, a cross-check of <see cref="RingTimelineSimulator"/> by the protocol itself. It gives the simulator's timeline to the
/// last bit when the two layouts agree (contiguous and striped always; zigzag when 2P divides N — otherwise the actors' zigzag
/// balances the odd tokens differently). Opt-in, not the default: the simulator needs no ActorSystem and plans 1,024 devices in
/// seconds, while the actors move P·(P − 1) messages and count every (chunk, block) pair's allowed pairs.
/// </summary>
public static class PlanActors
{
    /// <summary>Most devices <c>--actors</c> accepts: P² hand-offs through mailboxes stay within seconds.</summary>
    public const int MaxDevices = 256;

    /// <summary>Runs <paramref name="request"/>'s ring as phantom actors and returns its virtual timeline.</summary>
    public static RingTimeline Run(PlanRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        if (request.Devices > MaxDevices)
        {
            throw new ArgumentException($"--actors runs at most {MaxDevices} devices, got {request.Devices}: plan larger rings with the simulator alone", nameof(request));
        }

        var shape = new AttentionShape(request.Batch, request.Heads, request.KvHeads, request.SeqLen, request.HeadDim);
        var layout = request.Layout switch
        {
            LayoutKind.Contiguous => LayoutKind.Contiguous,
            LayoutKind.Striped => LayoutKind.Striped,
            _ => LayoutKind.Zigzag,
        };
        var settings = new RingJobSettings(request.Devices, layout, request.Causal) { VirtualTime = new VirtualTimeSettings(request.Profile, request.DataType) };
        var system = Cli.LocalActorSystem.Create("ringactors-plan", "akka.loglevel = WARNING");
        try
        {
            return RingRunner.RunAsync(system, AttentionInput.Phantom(shape), settings).GetAwaiter().GetResult().VirtualTimeline!;
        }
        finally
        {
            system.Terminate().GetAwaiter().GetResult();
        }
    }
}
