using Akka.Actor;
using RingActors.Actors.Cluster;
using RingActors.Actors.Protocol;
using RingActors.Actors.Tests.Cluster;
using RingActors.Math;
using RingActors.Math.IO;
using Xunit.Abstractions;

namespace RingActors.Host.Tests.Cluster;

/// <summary>
/// A rogue beside a cluster of node processes on 127.0.0.1 (two device nodes and a <c>run --cluster</c> coordinator, each
/// its own process; the rogue is this test process). Without TLS it joins as a device member and, for the whole job, keeps
/// ordering both device nodes to crash and the coordinator's supervisor to cancel: every order is refused and logged once,
/// no node dies, and the job's output equals the float64 oracle. With TLS it cannot join at all, neither without a
/// certificate nor with another cluster's, and the job on the TLS cluster equals the oracle too.
/// </summary>
[Collection(MultiProcessCollection.Name)]
[Trait("Category", "MultiProcess")]
public sealed class RogueNodeSpec(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public async Task A_rogue_member_ordering_crashes_and_cancels_must_change_nothing_and_the_job_must_equal_the_oracle()
    {
        using var cluster = await DeviceNodes.StartAsync(2, Timeout, output);
        var nodes = await Task.WhenAll(cluster.Nodes.Select(n => n.Up));
        await using var rogue = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Port = 0, Seeds = [cluster.Seed] });
        await rogue.WhenUp.WaitAsync(Timeout);

        // Named like a supervisor, so only the member check can refuse its crash orders. Both device nodes have refused one
        // before the job starts; the orders go on for the whole job.
        var orders = rogue.System.ActorOf(Props.Create(() => new Orders(nodes.Select(n => NodeAgent.Path(Address.Parse(n))).ToArray())), SenderPaths.SupervisorPrefix + "7");
        await UntilAsync(() => cluster.Nodes.All(n => n.Lines.Any(Refused))).WaitAsync(Timeout);

        // The rogue is a device member too: the job names its nodes so that none of its devices lands on the rogue. Twenty
        // repeats are twenty supervisors (ring-1 … ring-20) for the rogue to try to cancel. The rogue is told the
        // coordinator's address the moment the coordinator prints it, before its first ring: gossip alone reached the rogue
        // only after the last supervisor had stopped once (CI, a loaded machine, heartbeats 3 s late).
        var outPath = Path.Combine(_certificates.Folder, "out.npy");
        using var coordinator = await RunCoordinatorAsync(
            process => TellCoordinatorAsync(process, orders),
            "run", "--cluster", "--seed", cluster.Seed, "--devices", "4", "--placement", string.Join(',', nodes[0], nodes[1], nodes[0], nodes[1]),
            "--seq", "1537", "--heads", "2", "--kv-heads", "1", "--dim", "32", "--seed", "5", "--pattern", "none", "--no-scaling",
            "--repeats", "20", "--deadline", "30", "--out", outPath);

        AssertOracle(outPath, new AttentionShape(1, 2, 1, 1537, 32));

        // Every node is alive and logged one refusal (of dozens of orders); each supervisor that saw a cancel logged it once.
        foreach (var node in cluster.Nodes)
        {
            Assert.False(node.HasExited, $"device node {node.Id} died");
            Assert.Single(node.Lines, Refused);
        }

        var cancels = coordinator.Lines.Where(line => line.Contains("dropped CancelJob", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(cancels);
        Assert.Equal(cancels.Count, cancels.Select(line => System.Text.RegularExpressions.Regex.Match(line, @"of job (\S+) dropped").Groups[1].Value).Distinct().Count());
    }

    [Fact]
    public async Task A_rogue_without_a_certificate_or_with_another_clusters_must_not_join_a_TLS_cluster_whose_job_equals_the_oracle()
    {
        var ca = _certificates.CreateAuthority("ring-ca");
        var other = _certificates.CreateAuthority("other-ca");
        var passwordFile = Path.Combine(_certificates.Folder, "password");
        File.WriteAllText(passwordFile, TestCertificates.Password + "\n");
        string[] Tls(string name) => ["--tls-cert", ca.Issue(name), "--tls-ca", ca.CertificatePath, "--tls-password-file", passwordFile];

        using var cluster = await DeviceNodes.StartAsync(2, Timeout, output, i => Tls($"device-{i}"), SeedAddress.TlsProtocol);
        var seed = Address.Parse(cluster.Seed);
        var plain = new Address(SeedAddress.TcpProtocol, seed.System, seed.Host, seed.Port);
        await using var bare = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Port = 0, Seeds = [plain.ToString()], JoinTimeout = Timeout * 3 });
        var theirs = new TlsOptions(other.Issue("intruder"), TestCertificates.Password) { Authorities = [other.CertificatePath, ca.CertificatePath] };
        await using var stranger = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Port = 0, Tls = theirs, Seeds = [cluster.Seed], JoinTimeout = Timeout * 3 });

        var outPath = Path.Combine(_certificates.Folder, "out.npy");
        using var coordinator = await RunCoordinatorAsync(
            ["run", "--cluster", "--seed", cluster.Seed, "--devices", "3", "--device-nodes", "2", "--seq", "257", "--heads", "2", "--kv-heads", "1",
            "--dim", "16", "--seed", "5", "--pattern", "none", "--no-scaling", "--deadline", "30", "--out", outPath, .. Tls("coordinator")]);

        AssertOracle(outPath, new AttentionShape(1, 2, 1, 257, 16));

        // The whole job was the intruders' window: neither became a member, and the seed refused the one with a certificate.
        Assert.False(bare.WhenUp.IsCompletedSuccessfully, "the node without TLS joined");
        Assert.False(stranger.WhenUp.IsCompletedSuccessfully, "the node with another cluster's certificate joined");
        Assert.Contains(cluster.Nodes[0].Lines, line => line.Contains("TLS peer", StringComparison.Ordinal) && line.Contains("CN=intruder", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_trusted_member_whose_certificate_does_not_name_the_device_role_must_be_given_no_device()
    {
        var ca = _certificates.CreateAuthority("ring-ca");
        var passwordFile = Path.Combine(_certificates.Folder, "password");
        File.WriteAllText(passwordFile, TestCertificates.Password + "\n");
        string[] Tls(string name, string role) => ["--tls-cert", ca.Issue(name, roles: [role]), "--tls-ca", ca.CertificatePath, "--tls-password-file", passwordFile];

        using var cluster = await DeviceNodes.StartAsync(2, Timeout, output, i => Tls($"device-{i}", "device"), SeedAddress.TlsProtocol);
        await Task.WhenAll(cluster.Nodes.Select(n => n.Up)).WaitAsync(Timeout);

        // A holder of a trusted coordinator certificate joins declaring the device role (as a modified binary would).
        var theirs = new TlsOptions(ca.Issue("pretender", roles: ["coordinator"]), TestCertificates.Password) { Authorities = [ca.CertificatePath] };
        await using var pretender = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Port = 0, Tls = theirs, Seeds = [cluster.Seed] });
        await pretender.WhenUp.WaitAsync(Timeout);

        var outPath = Path.Combine(_certificates.Folder, "out.npy");
        var json = Path.Combine(_certificates.Folder, "report.json");
        using var coordinator = await RunCoordinatorAsync(
            ["run", "--cluster", "--seed", cluster.Seed, "--devices", "3", "--device-nodes", "2", "--seq", "257", "--heads", "2", "--kv-heads", "1",
            "--dim", "16", "--seed", "5", "--pattern", "none", "--no-scaling", "--repeats", "3", "--deadline", "30", "--out", outPath, "--json", json, .. Tls("coordinator", "coordinator")]);

        AssertOracle(outPath, new AttentionShape(1, 2, 1, 257, 16));

        // The pretender was a device member all along, but no device went to it; its refusal is one line over all three jobs.
        using var report = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
        var placed = report.RootElement.GetProperty("placement").EnumerateArray().Select(p => p.ToString()).ToList();
        Assert.Equal(3, placed.Count);
        Assert.DoesNotContain(pretender.Address.ToString(), placed);
        Assert.Equal(2, placed.Distinct().Count());
        var refusal = Assert.Single(coordinator.Lines, line => line.Contains("is not given work", StringComparison.Ordinal));
        Assert.Contains($"member {pretender.Address} declares role device", refusal, StringComparison.Ordinal);
        Assert.Contains("names only coordinator, not urn:ringactors:role:device", refusal, StringComparison.Ordinal);
    }

    /// <summary>Runs a <c>run --cluster</c> coordinator process to its end (exit 0) and writes what it printed to the test's output.</summary>
    private Task<NodeProcess> RunCoordinatorAsync(params string[] args) => RunCoordinatorAsync(_ => Task.CompletedTask, args);

    /// <inheritdoc cref="RunCoordinatorAsync(string[])"/>
    /// <param name="whileRunning">Started with the process, awaited before its exit.</param>
    private async Task<NodeProcess> RunCoordinatorAsync(Func<NodeProcess, Task> whileRunning, params string[] args)
    {
        var coordinator = NodeProcess.Start(args);
        try
        {
            await whileRunning(coordinator).WaitAsync(Timeout);
            Assert.Equal(0, await coordinator.WaitForExitAsync(Timeout * 2));
            return coordinator;
        }
        catch
        {
            coordinator.Dispose();
            throw;
        }
        finally
        {
            output.WriteLine($"--- coordinator ---\n{coordinator.Output}");
        }
    }

    /// <summary>The job's --out (random input of seed 5, causal) equals the float64 oracle.</summary>
    private static void AssertOracle(string outPath, AttentionShape shape)
    {
        var (expected, _) = ReferenceAttention.Compute(AttentionInput.Random(shape, 5), new AttentionOptions(Causal: true));
        Assert.True(ErrorMetrics.Compare(NpyFile.Read(outPath).Data, expected).RelativeError < 1e-5);
    }

    /// <summary>Tells <paramref name="orders"/> the address the coordinator prints once its devices are placed.</summary>
    private static async Task TellCoordinatorAsync(NodeProcess coordinator, IActorRef orders)
    {
        const string Prefix = "coordinator ";
        string? line;
        while ((line = coordinator.Lines.FirstOrDefault(l => l.StartsWith(Prefix, StringComparison.Ordinal))) is null && !coordinator.HasExited)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5));
        }

        Assert.NotNull(line);
        orders.Tell(Address.Parse(line[Prefix.Length..line.IndexOf(": ", StringComparison.Ordinal)]));
    }

    private static bool Refused(string line) => line.Contains("refused a crash order", StringComparison.Ordinal);

    /// <summary>Completes once <paramref name="condition"/> holds, checked every 100 ms (the caller bounds the wait).</summary>
    private static async Task UntilAsync(Func<bool> condition)
    {
        while (!condition())
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>
    /// Every 20 ms: a crash order to each device node's agent, and a cancel to supervisors ring-1 … ring-24 of every
    /// coordinator it was told of (an <see cref="Address"/> message) or sees in gossip.
    /// </summary>
    private sealed class Orders : ReceiveActor, IWithTimers
    {
        private readonly ActorPath[] _agents;
        private readonly HashSet<Address> _told = [];

        public Orders(ActorPath[] agents)
        {
            _agents = agents;
            Receive<Address>(address => _told.Add(address));
            Receive<Tick>(_ =>
            {
                foreach (var agent in _agents)
                {
                    Context.ActorSelection(agent).Tell(new CrashOrder("crash-node:0@0"), Self);
                }

                var coordinators = Akka.Cluster.Cluster.Get(Context.System).State.Members
                    .Where(m => m.HasRole(ClusterRoles.Coordinator)).Select(m => m.Address).Union(_told);
                foreach (var coordinator in coordinators)
                {
                    for (var n = 1; n <= 24; n++)
                    {
                        Context.ActorSelection(new RootActorPath(coordinator) / "user" / (SenderPaths.SupervisorPrefix + n)).Tell(RingProtocol.CancelJob.Instance, Self);
                    }
                }
            });
        }

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PreStart() => Timers.StartPeriodicTimer("orders", Tick.Instance, TimeSpan.FromMilliseconds(20));

        private sealed class Tick
        {
            public static readonly Tick Instance = new();
        }
    }
}
