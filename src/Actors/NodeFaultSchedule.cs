using Akka.Actor;
using RingActors.Actors.Cluster;
using RingActors.Actors.Faults;

namespace RingActors.Actors;

/// <summary>A node fault whose time has come, with what it strikes.</summary>
/// <param name="Fault">The fault as planned.</param>
/// <param name="Node">The device node it names.</param>
/// <param name="Links">For a partition: each link (its sending device) that touches the node, with which of its ends is cut off.</param>
public sealed record DueNodeFault(FaultSpec Fault, Address Node, IReadOnlyList<(int Link, bool SenderCut, bool ReceiverCut)> Links);

/// <summary>
/// The node faults of a cluster job (<c>crash-node:NAME@S</c>, <c>partition:NAME@S+SECONDS</c>): each strikes once, when a
/// device on its node has merged S blocks. Plain class, owned by the supervisor.
/// </summary>
public sealed class NodeFaultSchedule
{
    private readonly List<FaultSpec> _pending;

    public NodeFaultSchedule(FaultPlan? plan) =>
        _pending = plan?.Faults.Where(f => f is FaultSpec.CrashNode or FaultSpec.Partition).ToList() ?? [];

    /// <summary>The first fault that names a node the placement does not have, with a one-line reason; null when all resolve.</summary>
    public string? Unresolved(DevicePlacement placement)
    {
        ArgumentNullException.ThrowIfNull(placement);
        foreach (var fault in _pending)
        {
            if (placement.Resolve(NodeOf(fault)) is null)
            {
                return $"fault '{fault}': no device node '{NodeOf(fault)}'; give an index into the placement's nodes or an address: {placement.DescribeNodes()}";
            }
        }

        return null;
    }

    /// <summary>Device <paramref name="device"/> has merged <paramref name="blocksDone"/> blocks: the faults of its node due now (each once).</summary>
    public IReadOnlyList<DueNodeFault> Due(int device, int blocksDone, DevicePlacement placement)
    {
        ArgumentNullException.ThrowIfNull(placement);
        var due = new List<DueNodeFault>();
        foreach (var fault in _pending.ToList())
        {
            var step = fault is FaultSpec.CrashNode crash ? crash.Step : ((FaultSpec.Partition)fault).Step;
            if (placement.Resolve(NodeOf(fault)) is not { } node || !placement[device].Equals(node) || blocksDone < step)
            {
                continue;
            }

            _pending.Remove(fault);
            var links = new List<(int, bool, bool)>();
            if (fault is FaultSpec.Partition)
            {
                for (var l = 0; l < placement.Devices; l++)
                {
                    var senderCut = placement[l].Equals(node);
                    var receiverCut = placement[(l + 1) % placement.Devices].Equals(node);
                    if (senderCut || receiverCut)
                    {
                        links.Add((l, senderCut, receiverCut));
                    }
                }
            }

            due.Add(new DueNodeFault(fault, node, links));
        }

        return due;
    }

    private static string NodeOf(FaultSpec fault) => fault is FaultSpec.CrashNode crash ? crash.Node : ((FaultSpec.Partition)fault).Node;
}
