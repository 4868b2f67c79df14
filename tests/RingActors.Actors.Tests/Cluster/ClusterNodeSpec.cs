using Akka.Cluster;
using RingActors.Actors.Cluster;

namespace RingActors.Actors.Tests.Cluster;

[Collection(ClusterCollection.Name)]
public class ClusterNodeSpec
{
    private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task ClusterNode_must_bring_three_nodes_of_one_process_Up_with_their_roles()
    {
        await using var nodes = new NodeGroup();
        var seed = nodes.Start(new ClusterNodeOptions { Role = ClusterRoles.Coordinator, Port = 0 });
        await seed.WhenUp.WaitAsync(UpTimeout);
        var seeds = new[] { seed.Address.ToString() };
        var first = nodes.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Port = 0, Seeds = seeds });
        var second = nodes.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Port = 0, Seeds = seeds });

        await Task.WhenAll(first.WhenUp, second.WhenUp).WaitAsync(UpTimeout);
        var devices = await ClusterMembership.WaitForUpAsync(seed.System, ClusterRoles.Device, 2, UpTimeout);

        Assert.Equal(new[] { first.Address, second.Address }.Order(Member.AddressOrdering), devices.Select(member => member.Address));
        Assert.All(devices, device => Assert.Equal(new[] { ClusterRoles.Device }, device.Roles));
        var coordinator = Assert.Single(ClusterMembership.UpWithRole(first.Cluster.State.Members, ClusterRoles.Coordinator));
        Assert.Equal(seed.Address, coordinator.Address);
        Assert.All(new[] { seed, first, second }, node => Assert.Equal("127.0.0.1", node.Address.Host));
    }

    [Fact]
    public async Task ClusterNode_must_leave_gracefully_and_be_removed_from_the_others()
    {
        await using var seed = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Coordinator });
        await seed.WhenUp.WaitAsync(UpTimeout);
        var device = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Seeds = [seed.Address.ToString()] });
        await device.WhenUp.WaitAsync(UpTimeout);
        var removed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        seed.Cluster.Subscribe(
            seed.System.ActorOf(Akka.Actor.Props.Create(() => new RemovalProbe(device.Address, removed))),
            ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.MemberRemoved));

        await device.LeaveAsync().WaitAsync(UpTimeout);
        Assert.True(device.WhenTerminated.IsCompleted);

        // The seed's MemberRemoved event is the proof (Cluster.State is a view that may lag the events).
        await removed.Task.WaitAsync(UpTimeout);
    }

    [Fact]
    public async Task ClusterMembership_must_time_out_saying_how_many_members_were_Up()
    {
        await using var node = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device });
        await node.WhenUp.WaitAsync(UpTimeout);

        var error = await Assert.ThrowsAsync<TimeoutException>(
            () => ClusterMembership.WaitForUpAsync(node.System, ClusterRoles.Device, 3, TimeSpan.FromMilliseconds(300)));
        Assert.Equal("1 of 3 device members Up after 0.3 s", error.Message);
    }

    [Fact]
    public async Task ClusterNode_must_give_up_on_seeds_that_do_not_answer_after_its_join_timeout()
    {
        var port = FreePort();
        var node = ClusterNode.Start(new ClusterNodeOptions
        {
            Role = ClusterRoles.Device,
            Seeds = [$"akka.tcp://ring@127.0.0.1:{port}"],
            JoinTimeout = TimeSpan.FromSeconds(1),
        });
        Assert.Equal(TimeSpan.FromSeconds(1), node.JoinTimeout);

        var error = await Assert.ThrowsAsync<TimeoutException>(() => node.WhenUp.WaitAsync(UpTimeout));
        Assert.Equal($"no seed answered within 1 s (akka.tcp://ring@127.0.0.1:{port})", error.Message);
        await node.WhenTerminated.WaitAsync(UpTimeout);
    }

    /// <summary>A loopback port that was free a moment ago: nothing answers there.</summary>
    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class RemovalProbe : Akka.Actor.ReceiveActor
    {
        public RemovalProbe(Akka.Actor.Address address, TaskCompletionSource removed) =>
            Receive<ClusterEvent.MemberRemoved>(change =>
            {
                if (change.Member.Address.Equals(address))
                {
                    removed.TrySetResult();
                }
            });
    }
}
