using Akka.Actor;
using Akka.Event;
using RingActors.Actors.Cluster;
using RingActors.Actors.Protocol;

namespace RingActors.Actors.Tests.Cluster;

/// <summary>
/// Three nodes in this process: a coordinator, a target device node and a second device node. A crash order from an actor
/// named like a supervisor on the device node is refused (logged); the same order from the coordinator's is obeyed.
/// </summary>
[Collection(ClusterCollection.Name)]
public class NodeAgentSpec
{
    private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_node_agent_must_obey_a_crash_order_only_from_a_supervisor_on_a_coordinator()
    {
        await using var nodes = new NodeGroup();
        var coordinator = nodes.Start(new ClusterNodeOptions { Role = ClusterRoles.Coordinator, Port = 0 });
        await coordinator.WhenUp.WaitAsync(UpTimeout);
        var seeds = new[] { coordinator.Address.ToString() };
        var crashed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var target = nodes.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Port = 0, Seeds = seeds, Crash = system => crashed.TrySetResult(system.Name) });
        var other = nodes.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Port = 0, Seeds = seeds });
        await Task.WhenAll(target.WhenUp, other.WhenUp).WaitAsync(UpTimeout);
        await ClusterMembership.WaitForUpAsync(target.System, ClusterRoles.Device, 2, UpTimeout);

        var refused = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listener = target.System.ActorOf(Props.Create(() => new RefusalListener(refused)));
        target.System.EventStream.Subscribe(listener, typeof(Warning));

        other.System.ActorOf(Props.Create(() => new Orderer(NodeAgent.Path(target.Address))), "ring-7");
        var line = await refused.Task.WaitAsync(UpTimeout);
        Assert.Contains($"{other.Address}/user/ring-7", line, StringComparison.Ordinal);
        Assert.Contains("is not a coordinator member that is Up", line, StringComparison.Ordinal);
        Assert.False(crashed.Task.IsCompleted, "the node crashed on a device member's order");

        coordinator.System.ActorOf(Props.Create(() => new Orderer(NodeAgent.Path(target.Address))), "ring-8");
        Assert.Equal(ClusterNode.SystemName, await crashed.Task.WaitAsync(UpTimeout));
    }

    [Fact]
    public async Task A_node_agent_on_TLS_must_obey_a_crash_order_only_from_a_coordinator_whose_certificate_names_the_role()
    {
        using var certificates = new TestCertificates();
        var ca = certificates.CreateAuthority("ring-ca");
        TlsOptions Tls(string name, string role) => new(ca.Issue(name, roles: [role]), TestCertificates.Password) { Authorities = [ca.CertificatePath] };

        await using var nodes = new NodeGroup();
        var coordinator = nodes.Start(new ClusterNodeOptions { Role = ClusterRoles.Coordinator, Port = 0, Tls = Tls("coordinator", "coordinator") });
        await coordinator.WhenUp.WaitAsync(UpTimeout);
        var seeds = new[] { coordinator.Address.ToString() };
        var crashed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var target = nodes.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Port = 0, Seeds = seeds, Tls = Tls("target", "device"), Crash = system => crashed.TrySetResult(system.Name) });

        // A trusted member declaring the coordinator role with a certificate that grants only the device role.
        var pretender = nodes.Start(new ClusterNodeOptions { Role = ClusterRoles.Coordinator, Port = 0, Seeds = seeds, Tls = Tls("pretender", "device") });
        await Task.WhenAll(target.WhenUp, pretender.WhenUp).WaitAsync(UpTimeout);
        await ClusterMembership.WaitForUpAsync(target.System, ClusterRoles.Coordinator, 2, UpTimeout);

        var refused = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listener = target.System.ActorOf(Props.Create(() => new RefusalListener(refused)));
        target.System.EventStream.Subscribe(listener, typeof(Warning));

        pretender.System.ActorOf(Props.Create(() => new Orderer(NodeAgent.Path(target.Address))), "ring-7");
        var line = await refused.Task.WaitAsync(UpTimeout);
        Assert.Contains($"{pretender.Address}/user/ring-7", line, StringComparison.Ordinal);
        Assert.Contains("not a proved coordinator: its certificate 'CN=pretender' names only device, not urn:ringactors:role:coordinator", line, StringComparison.Ordinal);
        Assert.False(crashed.Task.IsCompleted, "the node crashed on a pretender's order");

        coordinator.System.ActorOf(Props.Create(() => new Orderer(NodeAgent.Path(target.Address))), "ring-8");
        Assert.Equal(ClusterNode.SystemName, await crashed.Task.WaitAsync(UpTimeout));
    }

    /// <summary>Sends one crash order to <paramref name="agent"/> as soon as it starts, with itself as the sender.</summary>
    private sealed class Orderer(ActorPath agent) : ReceiveActor
    {
        protected override void PreStart() => Context.ActorSelection(agent).Tell(new CrashOrder("crash-node:0@0"), Self);
    }

    private sealed class RefusalListener : ReceiveActor
    {
        public RefusalListener(TaskCompletionSource<string> refused) =>
            Receive<Warning>(w => w.Message.ToString()!.Contains("refused a crash order", StringComparison.Ordinal), w => { refused.TrySetResult(w.Message.ToString()!); });
    }
}
