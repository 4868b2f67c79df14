using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using RingActors.Actors.Cluster;
using RingActors.Actors.Faults;
using static RingActors.Actors.Faults.FaultProtocol;

namespace RingActors.Actors;

/// <summary>
/// The supervisor's part in node faults of a cluster run (<see cref="RingJobSettings.Placement"/> set): it injects
/// <c>crash-node</c> (a <see cref="CrashOrder"/> to the node's <see cref="NodeAgent"/> once a device there reaches the step),
/// watches membership, and treats a device node that becomes unreachable or is removed (downed by the split-brain resolver) as
/// lost: its unfinished devices are re-created on surviving device nodes, exactly as a crashed device is.
/// </summary>
public sealed partial class RingSupervisor
{
    private Address[]? _placement;
    private Address[] _deviceNodes = [];
    private readonly HashSet<Address> _lostNodes = [];
    private readonly HashSet<Address> _doomedNodes = [];
    private readonly HashSet<FaultSpec> _nodeFaultsInjected = [];
    private string?[] _lossCause = [];
    private bool _watchingMembers;

    /// <summary>Starts the node machinery of a cluster job: the placement to keep up to date and membership events.</summary>
    private void StartNodeWatch()
    {
        if (_job.Settings.Placement is not { } placement)
        {
            return;
        }

        _placement = [.. placement];
        _deviceNodes = [.. placement.Distinct()];
        _lossCause = new string?[Devices];
        if (Plan is { } plan)
        {
            foreach (var fault in plan.Faults.Where(f => f is FaultSpec.CrashNode or FaultSpec.Partition))
            {
                var name = fault is FaultSpec.CrashNode crash ? crash.Node : ((FaultSpec.Partition)fault).Node;
                if (ResolveNode(name) is null)
                {
                    Fail($"fault '{fault}': no device node '{name}'; give an index into the placement's nodes or an address: {DescribeNodes()}");
                    return;
                }
            }
        }

        if (Context.System.Settings.Config.GetString("akka.actor.provider", string.Empty).Contains("cluster", StringComparison.OrdinalIgnoreCase))
        {
            Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.UnreachableMember), typeof(ClusterEvent.MemberRemoved));
            _watchingMembers = true;
        }

        for (var r = 0; r < Devices; r++)
        {
            InjectNodeFaults(r);
        }
    }

    private void StopNodeWatch()
    {
        if (_watchingMembers)
        {
            Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
            _watchingMembers = false;
        }
    }

    private void NodeHandlers()
    {
        Receive<ClusterEvent.UnreachableMember>(m => NodeLost(m.Member.Address, "unreachable"));
        Receive<ClusterEvent.MemberRemoved>(m => NodeLost(m.Member.Address, "removed from the cluster"));
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
    }

    /// <summary>
    /// Crash-node NAME: NAME is an index into the job's device nodes in order of first appearance in the placement
    /// (0 = device 0's node), or a node's address (akka.tcp://ring@host:port, or host:port).
    /// </summary>
    private Address? ResolveNode(string name)
    {
        if (int.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index))
        {
            return index < _deviceNodes.Length ? _deviceNodes[index] : null;
        }

        return _deviceNodes.FirstOrDefault(a => a.ToString() == name || $"{a.Host}:{a.Port}" == name);
    }

    private string DescribeNodes() => string.Join(", ", _deviceNodes.Select((a, i) => $"{i}={a}"));

    /// <summary>Device <paramref name="r"/> merged a block: a crash-node fault of its node whose step has come is injected now.</summary>
    private void InjectNodeFaults(int r)
    {
        if (_placement is null || Plan is not { } plan)
        {
            return;
        }

        foreach (var fault in plan.Faults.OfType<FaultSpec.CrashNode>())
        {
            if (_nodeFaultsInjected.Contains(fault) || ResolveNode(fault.Node) is not { } node || !_placement[r].Equals(node) || _blocksDone[r] < fault.Step)
            {
                continue;
            }

            _nodeFaultsInjected.Add(fault);
            _doomedNodes.Add(node);
            var now = Now;
            for (var d = 0; d < Devices; d++)
            {
                if (_placement[d].Equals(node) && _results[d] is null)
                {
                    _killedAt[d] = now;
                    _lossCause[d] = fault.ToString();
                }
            }

            _log.Warning("Ring job {0}: {1}: crashing node {2}", _job.JobId, fault, node);
            Context.ActorSelection(NodeAgent.Path(node)).Tell(new CrashOrder(fault.ToString()), Self);
        }

        foreach (var fault in plan.Faults.OfType<FaultSpec.Partition>())
        {
            if (_nodeFaultsInjected.Contains(fault) || ResolveNode(fault.Node) is not { } node || !_placement[r].Equals(node) || _blocksDone[r] < fault.Step)
            {
                continue;
            }

            // The ring's traffic to and from the node's devices is cut at the links (membership and the supervisor's own
            // messages are not): the links' acknowledgements and retransmissions bridge it.
            _nodeFaultsInjected.Add(fault);
            _log.Warning("Ring job {0}: {1}: cutting node {2} off the ring for {3}", _job.JobId, fault, node, fault.Duration);
            for (var l = 0; l < _links.Length; l++)
            {
                var sender = _placement[l].Equals(node);
                var receiver = _placement[(l + 1) % Devices].Equals(node);
                if (sender || receiver)
                {
                    _links[l].Tell(new PartitionLink(fault, sender, receiver, fault.Duration));
                }
            }
        }
    }

    /// <summary>A device node fell silent or was removed: its unfinished devices are re-created on survivors (or the job fails).</summary>
    private void NodeLost(Address node, string how)
    {
        if (_placement is null || !_deviceNodes.Contains(node) || !_lostNodes.Add(node))
        {
            return;
        }

        _doomedNodes.Add(node);
        var lost = _devices.Where(d => _placement[d.Value].Equals(node) && _results[d.Value] is null).ToList();
        _log.Warning("Ring job {0}: device node {1} {2}; {3} unfinished device(s) there", _job.JobId, node, how, lost.Count);
        foreach (var (device, r) in lost)
        {
            if (!_devices.ContainsKey(device))
            {
                continue;
            }

            Context.Unwatch(device);
            _lossCause[r] ??= $"node {node} {how}";
            if (!TryRecover(device, r))
            {
                Fail($"device node {node} {how}: device {r} lost ({_blocksDone[r]} of {Devices} blocks merged) and the job has no fault plan to recover it");
                return;
            }

            if (_replyTo is null)
            {
                return; // recovery failed the job
            }
        }
    }

    /// <summary>Where a re-created device <paramref name="r"/> goes: its node if still alive, else a surviving device node; null when none is left.</summary>
    private Address? SurvivorFor(int r)
    {
        var survivors = _deviceNodes.Where(a => !_doomedNodes.Contains(a) && !_lostNodes.Contains(a)).ToList();
        if (survivors.Count == 0)
        {
            return null;
        }

        return survivors.Contains(_placement![r]) ? _placement[r] : survivors[r % survivors.Count];
    }

    /// <summary>A link gave up on a receiver whose node is crashing or lost: not a failure, the re-created receiver gets its blocks from the supervisor.</summary>
    private bool ReceiverNodeIsDown(LinkFailed failed) =>
        _placement is not null && (_doomedNodes.Contains(_placement[(failed.Link + 1) % Devices]) || _lostNodes.Contains(_placement[(failed.Link + 1) % Devices]));
}
