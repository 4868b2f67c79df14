using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Configuration;
using Akka.Remote.Transport.DotNetty;
using RingActors.Actors.Cluster;
using RingActors.Actors.Configuration;
using RingActors.Actors.Serialization;
using AkkaCluster = Akka.Cluster.Cluster;

namespace RingActors.Actors.Tests.Cluster;

/// <summary>
/// TLS nodes, each with its own certificate from the cluster's CA (or pinned), form a cluster and exchange messages; a node
/// without TLS, with another cluster's certificate, or presenting an expired one neither becomes a member nor delivers a
/// message within a bounded wait. Settings that would weaken TLS refuse to start.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterTlsSpec : IDisposable
{
    private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(20);

    /// <summary>How long an intruder is given to join or deliver before the spec concludes it cannot.</summary>
    // A refused node asks again every 2 s (akka.cluster.retry-unsuccessful-join-after): 5 s see at least three attempts.
    private static readonly TimeSpan RefusalWindow = TimeSpan.FromSeconds(5);

    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public async Task Two_TLS_nodes_with_their_own_certificates_from_one_CA_must_form_a_cluster_and_exchange_a_message()
    {
        var ca = _certificates.CreateAuthority("ring-ca");
        await using var seed = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Coordinator, Tls = Signed(ca, "coordinator") });
        await seed.WhenUp.WaitAsync(UpTimeout);
        Assert.Equal(SeedAddress.TlsProtocol, seed.Address.Protocol);
        seed.System.ActorOf(Props.Create(() => new Echo()), "echo");

        await using var device = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Tls = Signed(ca, "device-1"), Seeds = [seed.Address.ToString()] });
        await device.WhenUp.WaitAsync(UpTimeout);
        await ClusterMembership.WaitForUpAsync(seed.System, ClusterRoles.Device, 1, UpTimeout);

        var chunk = new BlockChunk(11, 0, 1, 300, Enumerable.Range(0, 300).Select(i => (byte)(i * 7)).ToArray());
        var echoed = await device.System.ActorSelection(new RootActorPath(seed.Address) / "user" / "echo")
            .Ask<BlockChunk>(chunk, UpTimeout);
        Assert.NotSame(chunk, echoed);
        Assert.Equal(chunk.Bytes.ToArray(), echoed.Bytes.ToArray());
    }

    [Fact]
    public async Task Two_TLS_nodes_pinning_each_others_certificate_must_form_a_cluster()
    {
        var a = _certificates.SelfSigned("node-a");
        var b = _certificates.SelfSigned("node-b");
        var pins = new[] { PeerTrust.Sha256(a), PeerTrust.Sha256(b) };
        await using var seed = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Coordinator, Tls = new TlsOptions(Pfx(a, "node-a"), TestCertificates.Password) { Pinned = pins } });
        await seed.WhenUp.WaitAsync(UpTimeout);
        await using var device = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Tls = new TlsOptions(Pfx(b, "node-b"), TestCertificates.Password) { Pinned = pins }, Seeds = [seed.Address.ToString()] });
        await device.WhenUp.WaitAsync(UpTimeout);
        Assert.Single(await ClusterMembership.WaitForUpAsync(seed.System, ClusterRoles.Device, 1, UpTimeout));
    }

    [Fact]
    public async Task A_node_without_TLS_must_neither_join_nor_deliver_to_a_TLS_cluster()
    {
        var ca = _certificates.CreateAuthority("ring-ca");
        await using var seed = await TlsSeedAsync(ca);

        var plainSeed = new Address(SeedAddress.TcpProtocol, ClusterNode.SystemName, seed.Address.Host, seed.Address.Port);
        await using var intruder = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Seeds = [plainSeed.ToString()] });

        await AssertRefused(seed, intruder.System, intruder.WhenUp, plainSeed);
    }

    [Fact]
    public async Task A_node_with_another_clusters_certificate_must_neither_join_nor_deliver_to_a_TLS_cluster()
    {
        var ca = _certificates.CreateAuthority("ring-ca");
        var other = _certificates.CreateAuthority("other-ca");
        await using var seed = await TlsSeedAsync(ca);

        // The intruder trusts our CA too: only our side's check can keep it out.
        var theirs = new TlsOptions(other.Issue("intruder"), TestCertificates.Password) { Authorities = [other.CertificatePath, ca.CertificatePath] };
        await using var intruder = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Tls = theirs, Seeds = [seed.Address.ToString()] });

        await AssertRefused(seed, intruder.System, intruder.WhenUp, seed.Address);
    }

    [Fact]
    public async Task A_node_presenting_an_expired_certificate_of_the_clusters_CA_must_neither_join_nor_deliver()
    {
        var ca = _certificates.CreateAuthority("ring-ca");
        await using var seed = await TlsSeedAsync(ca);

        // ClusterNode refuses to start with an expired certificate, so the intruder is a bare actor system that presents one
        // and accepts anything itself, as a hostile process would.
        var expired = ca.IssueCertificate("old-node", DateTimeOffset.UtcNow.AddDays(-20), DateTimeOffset.UtcNow.AddDays(-10));
        var intruder = RogueTlsSystem(expired);
        try
        {
            var up = new TaskCompletionSource();
            AkkaCluster.Get(intruder).RegisterOnMemberUp(() => up.TrySetResult());
            AkkaCluster.Get(intruder).Join(seed.Address);
            await AssertRefused(seed, intruder, up.Task, seed.Address);
        }
        finally
        {
            await intruder.Terminate();
        }
    }

    [Fact]
    public void A_certificate_with_the_wrong_password_must_be_refused_before_the_node_starts()
    {
        var ca = _certificates.CreateAuthority("ring-ca");
        var tls = new TlsOptions(ca.Issue("node"), "not-the-password") { Authorities = [ca.CertificatePath] };
        var error = Assert.Throws<ArgumentException>(() => ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Tls = tls }));
        Assert.Contains("(a .pfx with its key; wrong password?)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TLS_that_trusts_nobody_or_suppresses_validation_or_has_an_expired_certificate_must_be_refused_before_the_node_starts()
    {
        var ca = _certificates.CreateAuthority("ring-ca");
        var node = ca.Issue("node");

        var nobody = Assert.Throws<ArgumentException>(() => ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Tls = new TlsOptions(node, TestCertificates.Password) }));
        Assert.Contains("TLS needs whom to trust", nobody.Message, StringComparison.Ordinal);

        var suppress = ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.ssl.suppress-validation = on");
        var suppressed = Assert.Throws<ArgumentException>(() => ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Tls = Trusting(node, ca), Config = suppress }));
        Assert.Contains("suppress-validation = on is not honoured", suppressed.Message, StringComparison.Ordinal);

        var old = ca.Issue("old-node", DateTimeOffset.UtcNow.AddDays(-20), DateTimeOffset.UtcNow.AddDays(-10));
        var expired = Assert.Throws<ArgumentException>(() => ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Tls = Trusting(old, ca) }));
        Assert.Contains("not now", expired.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_password_must_come_from_a_file_and_the_file_must_exist()
    {
        var file = Path.Combine(_certificates.Folder, "password.txt");
        File.WriteAllText(file, TestCertificates.Password + "\n");
        Assert.Equal(TestCertificates.Password, TlsOptions.ReadPasswordFile(file));
        Assert.Null(TlsOptions.ReadPasswordFile(null));
        Assert.Contains("does not exist", Assert.Throws<ArgumentException>(() => TlsOptions.ReadPasswordFile(file + ".missing")).Message, StringComparison.Ordinal);
    }

    private static TlsOptions Trusting(string pfx, TestCertificates.Authority ca) =>
        new(pfx, TestCertificates.Password) { Authorities = [ca.CertificatePath] };

    private static TlsOptions Signed(TestCertificates.Authority ca, string name) => Trusting(ca.Issue(name), ca);

    private static async Task<ClusterNode> TlsSeedAsync(TestCertificates.Authority ca)
    {
        var seed = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Coordinator, Tls = Signed(ca, "coordinator") });
        await seed.WhenUp.WaitAsync(UpTimeout);
        seed.System.ActorOf(Props.Create(() => new Echo()), "echo");
        return seed;
    }

    private string Pfx(X509Certificate2 certificate, string name)
    {
        var path = Path.Combine(_certificates.Folder, name + "-pinned.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, TestCertificates.Password));
        return path;
    }

    /// <summary>A cluster actor system on loopback that presents <paramref name="certificate"/> over TLS and accepts every peer.</summary>
    private static ActorSystem RogueTlsSystem(X509Certificate2 certificate)
    {
        var config = ConfigurationFactory.ParseString("""
            akka.actor.provider = cluster
            akka.cluster.roles = [device]
            akka.remote.dot-netty.tcp { enable-ssl = on, hostname = 127.0.0.1, port = 0 }
            """).WithFallback(ClusterDefaults.NodeDefaults);
        var ssl = new DotNettySslSetup(certificate, suppressValidation: true, requireMutualAuthentication: true, validateCertificateHostname: false, (_, _, _, _, _) => true);
        return ActorSystem.Create(ClusterNode.SystemName, BootstrapSetup.Create().WithConfig(config).And(ssl));
    }

    /// <summary>Within <see cref="RefusalWindow"/> the intruder is not Up, the seed has no second member, and an ask gets no reply.</summary>
    private static async Task AssertRefused(ClusterNode seed, ActorSystem intruder, Task intruderUp, Address target)
    {
        var window = Task.Delay(RefusalWindow);
        var ask = intruder.ActorSelection(new RootActorPath(target) / "user" / "echo")
            .Ask<BlockChunk>(new BlockChunk(1, 0, 1, 1, new byte[] { 42 }), RefusalWindow);

        await Task.WhenAny(intruderUp, window);
        Assert.False(intruderUp.IsCompletedSuccessfully, "the intruder became Up");
        await window;
        Assert.False(intruderUp.IsCompletedSuccessfully, "the intruder became Up");
        Assert.Single(seed.Cluster.State.Members);
        await Assert.ThrowsAnyAsync<Exception>(() => ask);
    }

    private sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(message => Sender.Tell(message));
    }
}
