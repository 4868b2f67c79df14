using Akka.Configuration;
using RingActors.Actors.Cluster;

namespace RingActors.Actors.Tests.Cluster;

/// <summary>
/// A coordinator and device nodes as ActorSystems of this process, Up, whose device nodes a crash-node fault ends without
/// leaving (<see cref="NodeAgent.AbortSystem"/>). Failure detection and the split-brain resolver are shortened (<see cref="Fast"/>)
/// so that a crash is seen in about two seconds (a pause of 1 s was too short for four systems sharing two loaded cores:
/// heartbeats came 0.9 s late and the resolver downed the whole cluster). Disposing ends every node still running at once.
/// </summary>
internal sealed class CrashableNodes : IAsyncDisposable
{
    public static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(20);

    public static readonly Config Fast = ConfigurationFactory.ParseString("""
        akka.cluster.failure-detector { heartbeat-interval = 200ms, acceptable-heartbeat-pause = 2s, threshold = 8 }
        akka.cluster.split-brain-resolver.stable-after = 2s
        akka.cluster { gossip-interval = 200ms, leader-actions-interval = 200ms, periodic-tasks-initial-delay = 100ms, unreachable-nodes-reaper-interval = 250ms }
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        akka.loglevel = ERROR
        """);

    private readonly ClusterNode _coordinator;
    private readonly List<ClusterNode> _devices;

    private CrashableNodes(ClusterNode coordinator, List<ClusterNode> devices, DevicePlacement members)
    {
        _coordinator = coordinator;
        _devices = devices;
        Members = members;
    }

    public ClusterNode Coordinator => _coordinator;

    /// <summary>The device members, one device each (round-robin over them in member order).</summary>
    public DevicePlacement Members { get; }

    /// <summary>Starts a coordinator and <paramref name="devices"/> device nodes and waits until all are Up.</summary>
    public static async Task<CrashableNodes> StartAsync(int devices)
    {
        var coordinator = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Coordinator, Port = 0, Config = Fast });
        var nodes = new List<ClusterNode>();
        try
        {
            await coordinator.WhenUp.WaitAsync(UpTimeout);
            var seeds = new[] { coordinator.Address.ToString() };
            for (var i = 0; i < devices; i++)
            {
                nodes.Add(ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Port = 0, Seeds = seeds, Config = Fast, Crash = NodeAgent.AbortSystem }));
            }

            var members = await ClusterMembership.WaitForUpAsync(coordinator.System, ClusterRoles.Device, devices, UpTimeout);
            return new CrashableNodes(coordinator, nodes, DevicePlacement.Place("round-robin", devices, members.Select(m => m.Address).ToList()));
        }
        catch
        {
            await new CrashableNodes(coordinator, nodes, null!).DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync(_devices.Append(_coordinator));

    /// <summary>
    /// Ends <paramref name="nodes"/> (started with <see cref="Fast"/>) at once, without leaving: a graceful leave after a
    /// crash waits for the crashed member (about 5 s a spec), and these clusters end whole.
    /// </summary>
    public static Task StopAsync(IEnumerable<ClusterNode> nodes) =>
        Task.WhenAll(nodes.Select(n => n.System.WhenTerminated.IsCompleted ? Task.CompletedTask : n.System.Terminate()));
}
