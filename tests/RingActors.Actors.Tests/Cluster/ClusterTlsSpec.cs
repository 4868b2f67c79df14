using Akka.Actor;
using RingActors.Actors.Cluster;
using RingActors.Actors.Serialization;

namespace RingActors.Actors.Tests.Cluster;

/// <summary>
/// TLS nodes sharing a certificate form a cluster and exchange messages; a node without TLS, or with another
/// certificate, neither becomes a member nor delivers a message within a bounded wait.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterTlsSpec : IDisposable
{
    private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(20);

    /// <summary>How long an intruder is given to join or deliver before the spec concludes it cannot.</summary>
    private static readonly TimeSpan RefusalWindow = TimeSpan.FromSeconds(8);

    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public async Task Two_TLS_nodes_must_form_a_cluster_and_exchange_a_message()
    {
        var tls = new TlsOptions(_certificates.Create("ring-cluster"), TestCertificates.Password);
        await using var seed = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Coordinator, Tls = tls });
        await seed.WhenUp.WaitAsync(UpTimeout);
        Assert.Equal(SeedAddress.TlsProtocol, seed.Address.Protocol);
        seed.System.ActorOf(Props.Create(() => new Echo()), "echo");

        await using var device = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Tls = tls, Seeds = [seed.Address.ToString()] });
        await device.WhenUp.WaitAsync(UpTimeout);
        await ClusterMembership.WaitForUpAsync(seed.System, ClusterRoles.Device, 1, UpTimeout);

        var chunk = new BlockChunk(11, 0, 1, 300, Enumerable.Range(0, 300).Select(i => (byte)(i * 7)).ToArray());
        var echoed = await device.System.ActorSelection(new RootActorPath(seed.Address) / "user" / "echo")
            .Ask<BlockChunk>(chunk, UpTimeout);
        Assert.NotSame(chunk, echoed);
        Assert.Equal(chunk.Bytes.ToArray(), echoed.Bytes.ToArray());
    }

    [Fact]
    public async Task A_node_without_TLS_must_neither_join_nor_deliver_to_a_TLS_cluster()
    {
        var tls = new TlsOptions(_certificates.Create("ring-cluster"), TestCertificates.Password);
        await using var seed = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Coordinator, Tls = tls });
        await seed.WhenUp.WaitAsync(UpTimeout);
        seed.System.ActorOf(Props.Create(() => new Echo()), "echo");

        var plainSeed = new Address(SeedAddress.TcpProtocol, ClusterNode.SystemName, seed.Address.Host, seed.Address.Port);
        await using var intruder = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Seeds = [plainSeed.ToString()] });

        await AssertRefused(seed, intruder, plainSeed);
    }

    [Fact]
    public async Task A_node_with_another_certificate_must_neither_join_nor_deliver_to_a_TLS_cluster()
    {
        var tls = new TlsOptions(_certificates.Create("ring-cluster"), TestCertificates.Password);
        var other = new TlsOptions(_certificates.Create("someone-else"), TestCertificates.Password);
        await using var seed = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Coordinator, Tls = tls });
        await seed.WhenUp.WaitAsync(UpTimeout);
        seed.System.ActorOf(Props.Create(() => new Echo()), "echo");

        await using var intruder = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Tls = other, Seeds = [seed.Address.ToString()] });

        await AssertRefused(seed, intruder, seed.Address);
    }

    [Fact]
    public void A_certificate_with_the_wrong_password_must_be_refused_before_the_node_starts()
    {
        var tls = new TlsOptions(_certificates.Create("ring-cluster"), "not-the-password");
        var error = Assert.Throws<ArgumentException>(() => ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Tls = tls }));
        Assert.Contains("(a .pfx with its key; wrong password?)", error.Message);
    }

    /// <summary>Within <see cref="RefusalWindow"/> the intruder is not Up, the seed has no second member, and an ask gets no reply.</summary>
    private static async Task AssertRefused(ClusterNode seed, ClusterNode intruder, Address target)
    {
        var window = Task.Delay(RefusalWindow);
        var ask = intruder.System.ActorSelection(new RootActorPath(target) / "user" / "echo")
            .Ask<BlockChunk>(new BlockChunk(1, 0, 1, 1, new byte[] { 42 }), RefusalWindow);

        await Task.WhenAny(intruder.WhenUp, window);
        Assert.False(intruder.WhenUp.IsCompletedSuccessfully, "the intruder became Up");
        await window;
        Assert.False(intruder.WhenUp.IsCompletedSuccessfully, "the intruder became Up");
        Assert.Single(seed.Cluster.State.Members);
        await Assert.ThrowsAnyAsync<Exception>(() => ask);
    }

    private sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(message => Sender.Tell(message));
    }
}
