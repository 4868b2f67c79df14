using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using RingActors.Actors.Cluster;
using Xunit.Abstractions;

namespace RingActors.Host.Tests.Cluster;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MultiProcessCollection
{
    public const string Name = "Node processes";
}

/// <summary>Three <c>ringactors node</c> processes on 127.0.0.1 form a cluster, are seen from outside, and leave on signals.</summary>
[Collection(MultiProcessCollection.Name)]
[Trait("Category", "MultiProcess")]
public class NodeProcessSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Three_node_processes_must_form_a_cluster_and_leave_on_SIGTERM_and_SIGINT()
    {
        var port = NodeProcess.FreePort();
        var seedAddress = $"akka.tcp://ring@127.0.0.1:{port}";
        var watch = Stopwatch.StartNew();
        using var seed = NodeProcess.Start("node", "--role", "device", "--port", $"{port}", "--seed", seedAddress);
        using var first = NodeProcess.Start("node", "--role", "device", "--seed", seedAddress);
        using var second = NodeProcess.Start("node", "--role", "device", "--seed", seedAddress);
        NodeProcess[] nodes = [seed, first, second];
        try
        {
            var addresses = await Task.WhenAll(nodes.Select(node => node.Up)).WaitAsync(Timeout);
            output.WriteLine($"3 processes started and Up in {watch.Elapsed.TotalSeconds:0.0} s: {string.Join(", ", addresses)}");
            Assert.Equal(seedAddress, addresses[0]);

            await using var observer = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Coordinator, Seeds = [seedAddress] });
            var devices = await ClusterMembership.WaitForUpAsync(observer.System, ClusterRoles.Device, 3, Timeout);
            Assert.Equal(addresses.Order(StringComparer.Ordinal), devices.Select(member => member.Address.ToString()).Order(StringComparer.Ordinal));

            var removed = AllRemoved(observer, devices.Select(member => member.Address).ToList());
            watch.Restart();
            first.Signal("TERM");
            second.Signal("TERM");
            seed.Signal("INT");
            var exitCodes = await Task.WhenAll(nodes.Select(node => node.WaitForExitAsync(Timeout)));
            output.WriteLine($"3 processes left and exited in {watch.Elapsed.TotalSeconds:0.0} s");
            Assert.Equal([0, 0, 0], exitCodes);
            await removed.WaitAsync(Timeout);
        }
        finally
        {
            foreach (var node in nodes)
            {
                output.WriteLine($"--- node {node.Id} ---\n{node.Output}");
            }
        }
    }

    /// <summary>Completes when every address in <paramref name="addresses"/> has been removed from the observer's view.</summary>
    private static Task AllRemoved(ClusterNode observer, IReadOnlyCollection<Address> addresses)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = observer.System.ActorOf(Props.Create(() => new RemovalProbe(addresses, done)));
        observer.Cluster.Subscribe(probe, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberRemoved));
        return done.Task;
    }

    private sealed class RemovalProbe : ReceiveActor
    {
        public RemovalProbe(IReadOnlyCollection<Address> addresses, TaskCompletionSource done)
        {
            var pending = new HashSet<Address>(addresses);
            Receive<ClusterEvent.MemberRemoved>(removed =>
            {
                pending.Remove(removed.Member.Address);
                if (pending.Count == 0)
                {
                    done.TrySetResult();
                }
            });
        }
    }
}
