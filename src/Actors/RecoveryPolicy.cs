using Akka.Actor;
using RingActors.Actors.Cluster;
using RingActors.Actors.Faults;

namespace RingActors.Actors;

/// <summary>What the supervisor does about a device that stopped before finishing.</summary>
public abstract record RecoveryDecision
{
    private RecoveryDecision()
    {
    }

    /// <summary>Re-create the device as incarnation <paramref name="Epoch"/>, on <paramref name="Node"/> (null: in this process).</summary>
    public sealed record Recreate(int Epoch, Address? Node) : RecoveryDecision;

    /// <summary>The job fails with this one-line reason.</summary>
    public sealed record GiveUp(string Reason) : RecoveryDecision;
}

/// <summary>
/// Whether and where a lost device is re-created (plain class, owned by the supervisor): only under a fault plan, at most
/// <see cref="FaultPlan.MaxRestarts"/> times per job, on its own node while that lives, else on a surviving node of the
/// placement. Each re-creation is a new epoch of that device, so frames addressed to an older incarnation are refused.
/// </summary>
public sealed class RecoveryPolicy(FaultPlan? plan, int devices)
{
    private readonly int[] _epochs = new int[devices];

    /// <summary>Devices re-created so far in the job.</summary>
    public int Restarts { get; private set; }

    /// <summary>The current incarnation of device <paramref name="device"/>.</summary>
    public int EpochOf(int device) => _epochs[device];

    /// <summary>
    /// Decides for device <paramref name="device"/>, stopped because of <paramref name="cause"/>: re-created (and counted) or
    /// given up. <paramref name="placement"/> is the cluster placement (null in one process), <paramref name="down"/> the nodes
    /// lost or being crashed.
    /// </summary>
    public RecoveryDecision Decide(int device, string cause, DevicePlacement? placement, IReadOnlySet<Address> down)
    {
        ArgumentNullException.ThrowIfNull(down);
        if (plan is null)
        {
            return new RecoveryDecision.GiveUp(cause);
        }

        if (Restarts >= plan.MaxRestarts)
        {
            return new RecoveryDecision.GiveUp($"{cause}; not re-created: max-restarts ({plan.MaxRestarts}) reached ({plan.Describe()})");
        }

        Address? node = null;
        if (placement is not null && (node = placement.SurvivorFor(device, down)) is null)
        {
            return new RecoveryDecision.GiveUp($"{cause}: device {device} cannot be re-created, every device node is gone ({string.Join(", ", down)})");
        }

        Restarts++;
        return new RecoveryDecision.Recreate(++_epochs[device], node);
    }
}
