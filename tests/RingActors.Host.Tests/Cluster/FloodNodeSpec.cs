using System.Net.Sockets;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using RingActors.Actors.Configuration;
using RingActors.Actors.Serialization;
using RingActors.Math;
using RingActors.Math.IO;
using Xunit.Abstractions;

namespace RingActors.Host.Tests.Cluster;

/// <summary>
/// A flood beside a cluster of node processes on 127.0.0.1 (two device nodes and a <c>run --cluster</c> coordinator, each its
/// own process; the flood comes from this test process) for the whole of three jobs: raw TCP connections to the device
/// nodes' ports carrying random bytes, a frame length over maximum-frame-size and a negative one; a rogue actor system
/// sending messages under the ring serializer's id that do not decode, and forged chunk frames (a transfer over
/// max-transfer-bytes, partial transfers never finished, a transfer whose payload does not decode) to every device and
/// supervisor path of the jobs; and a second one sending messages over maximum-frame-size. No node dies, each logs every
/// kind of it once (per actor for the ring's refusals, <see cref="Actors.Cluster.TransportNoise"/> for Akka's transport),
/// and the jobs' output equals the float64 oracle.
/// </summary>
[Collection(MultiProcessCollection.Name)]
[Trait("Category", "MultiProcess")]
public sealed partial class FloodNodeSpec(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _directory = Directory.CreateTempSubdirectory("ring-flood").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_node_flooded_with_garbage_bytes_garbled_messages_and_forged_chunks_must_log_each_kind_once_and_the_job_must_equal_the_oracle()
    {
        using var cluster = await DeviceNodes.StartAsync(2, Timeout, output);
        var nodes = await Task.WhenAll(cluster.Nodes.Select(n => n.Up));
        using var encoder = ActorSystem.Create("encoder", ConfigurationFactory.ParseString("akka.actor.provider = local").WithFallback(ClusterDefaults.Config));
        var frames = (RingMessageSerializer)encoder.Serialization.FindSerializerForType(typeof(BlockChunk));
        using var rogue = ActorSystem.Create("rogue", RogueConfig("4 MiB"));
        using var giant = ActorSystem.Create("giant", RogueConfig("8 MiB"));

        var outPath = Path.Combine(_directory, "out.npy");
        using var coordinator = NodeProcess.Start(
            "run", "--cluster", "--seed", cluster.Seed, "--devices", "4", "--placement", string.Join(',', nodes[0], nodes[1], nodes[0], nodes[1]),
            "--seq", "1024", "--heads", "2", "--kv-heads", "1", "--dim", "32", "--seed", "5", "--pattern", "none", "--no-scaling",
            "--repeats", "3", "--deadline", "30", "--out", outPath);

        using var stop = new CancellationTokenSource();
        var sent = new Counts();
        var raw = Task.Run(() => RawGarbageAsync(nodes.Select(n => Address.Parse(n).Port!.Value).ToArray(), sent, stop.Token));
        var forged = Task.Run(() => ForgedMessagesAsync(rogue, giant, frames, nodes.Select(Address.Parse).ToArray(), coordinator, sent, stop.Token));
        int exitCode;
        try
        {
            exitCode = await coordinator.WaitForExitAsync(Timeout * 2);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(raw, forged);
            output.WriteLine($"--- sent: {sent} ---\n--- coordinator ---\n{coordinator.Output}");
        }

        Assert.Equal(0, exitCode);
        var input = AttentionInput.Random(new AttentionShape(1, 2, 1, 1024, 32), 5);
        var (expected, _) = ReferenceAttention.Compute(input, new AttentionOptions(Causal: true));
        Assert.True(ErrorMetrics.Compare(NpyFile.Read(outPath).Data, expected).RelativeError < 1e-5);

        // Hundreds of each kind were sent; every node is alive and wrote each kind of transport error once.
        Assert.True(sent.Connections > 100 && sent.Garbled > 100 && sent.Chunks > 100, $"the flood was too thin: {sent}");
        foreach (var node in cluster.Nodes)
        {
            Assert.False(node.HasExited, $"device node {node.Id} died");
            Assert.Single(node.Lines, line => line.Contains("TooLongFrameException", StringComparison.Ordinal));
            Assert.Single(node.Lines, line => line.Contains("CorruptedFrameException", StringComparison.Ordinal));

            Assert.Single(node.Lines, line => line.Contains("Deserialization failed", StringComparison.Ordinal));

            // The ring's refusals of thousands of forged transfers: once per kind and device actor (two devices per node and job).
            AssertOncePerKindAndActor(node.Lines, 2);
        }

        AssertOncePerKindAndActor(coordinator.Lines, 1);
    }

    /// <summary>Each kind of chunk refusal was logged, at most <paramref name="actorsPerJob"/> times per job.</summary>
    private static void AssertOncePerKindAndActor(IReadOnlyList<string> lines, int actorsPerJob)
    {
        foreach (var kind in new[] { "transfers already pending from this sender", "bytes do not decode" })
        {
            var perJob = lines.Where(line => line.Contains(kind, StringComparison.Ordinal)).GroupBy(line => JobOf().Match(line).Value).ToList();
            Assert.NotEmpty(perJob);
            Assert.All(perJob, job => Assert.InRange(job.Count(), 1, actorsPerJob));
        }
    }

    private static Config RogueConfig(string frame) => ConfigurationFactory.ParseString($$"""
        akka.actor.provider = remote
        akka.loglevel = ERROR
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0, maximum-frame-size = {{frame}}, send-buffer-size = 16 MiB, receive-buffer-size = 16 MiB }
        akka.actor.serializers.raw = "{{typeof(RawFrames).AssemblyQualifiedName}}"
        akka.actor.serialization-bindings { "{{typeof(RawFrame).AssemblyQualifiedName}}" = raw }
        """);

    /// <summary>Every 20 ms, three connections to each port: random bytes, a frame length of 2³¹ − 1, a negative one.</summary>
    private static async Task RawGarbageAsync(int[] ports, Counts sent, CancellationToken stop)
    {
        var random = new Random(1);
        while (!stop.IsCancellationRequested)
        {
            foreach (var port in ports)
            {
                foreach (var head in new byte[][] { [], [0x7f, 0xff, 0xff, 0xff], [0xff, 0xff, 0xff, 0x7f] })
                {
                    try
                    {
                        using var client = new TcpClient();
                        await client.ConnectAsync("127.0.0.1", port, stop);
                        var body = new byte[256];
                        random.NextBytes(body);
                        await client.GetStream().WriteAsync(head.Concat(body).ToArray(), stop);
                        Interlocked.Increment(ref sent.Connections);
                    }
                    catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
                    {
                    }
                }
            }

            await Delay(20, stop);
        }
    }

    /// <summary>
    /// Every 20 ms: a message under the ring serializer's id whose bytes do not decode to each node's agent, and forged chunk
    /// frames to each device and supervisor path of jobs ring-1 … ring-4 once the coordinator has said where it is; every
    /// 500 ms, from the other system, a message over the nodes' maximum-frame-size.
    /// </summary>
    private static async Task ForgedMessagesAsync(ActorSystem rogue, ActorSystem giant, RingMessageSerializer frames, Address[] nodes, NodeProcess coordinator, Counts sent, CancellationToken stop)
    {
        var random = new Random(2);
        long transfer = 1;
        var ticks = 0;
        RawFrame Chunk(long id, int index, int count, int total, int bytes) =>
            new("CH", frames.ToBinary(new BlockChunk(id, index, count, total, new byte[bytes])));
        while (!stop.IsCancellationRequested)
        {
            var garbled = new byte[64];
            random.NextBytes(garbled);
            foreach (var node in nodes)
            {
                rogue.ActorSelection(new RootActorPath(node) / "user" / "ring-node-agent").Tell(new RawFrame("AB", garbled));
                Interlocked.Increment(ref sent.Garbled);
                if (ticks % 25 == 0)
                {
                    giant.ActorSelection(new RootActorPath(node) / "user" / "ring-node-agent").Tell(new RawFrame("AB", new byte[2 * 1024 * 1024]));
                }
            }

            if (CoordinatorAddress(coordinator) is { } coordinatorAddress)
            {
                var targets = new List<ActorPath>();
                for (var job = 1; job <= 4; job++)
                {
                    var supervisor = new RootActorPath(coordinatorAddress) / "user" / $"ring-{job}";
                    targets.Add(supervisor);
                    foreach (var node in nodes)
                    {
                        var remote = new RootActorPath(node) / "remote" / coordinatorAddress.Protocol / $"{coordinatorAddress.System}@{coordinatorAddress.Host}:{coordinatorAddress.Port}" / "user" / $"ring-{job}";
                        targets.AddRange(Enumerable.Range(0, 4).Select(r => remote / $"device-{r}"));
                    }
                }

                foreach (var target in targets)
                {
                    var to = rogue.ActorSelection(target);
                    to.Tell(Chunk(transfer++, 0, 4, int.MaxValue, 1000));             // over max-transfer-bytes
                    to.Tell(Chunk(transfer++, 0, 100, 100 * 1000, 1000));             // partial, never finished
                    var undecodable = transfer++;
                    to.Tell(Chunk(undecodable, 0, 2, 20, 10));                         // whole, but its bytes do not decode
                    to.Tell(Chunk(undecodable, 1, 2, 20, 10));
                    Interlocked.Add(ref sent.Chunks, 4);
                }
            }

            ticks++;
            await Delay(20, stop);
        }
    }

    private static Address? CoordinatorAddress(NodeProcess coordinator) =>
        coordinator.Lines.Select(line => CoordinatorLine().Match(line)).FirstOrDefault(m => m.Success) is { } match ? Address.Parse(match.Groups[1].Value) : null;

    private static async Task Delay(int milliseconds, CancellationToken stop)
    {
        try
        {
            await Task.Delay(milliseconds, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }

    [GeneratedRegex(@"job job-[0-9a-f]+")]
    private static partial Regex JobOf();

    [GeneratedRegex(@"^coordinator (akka\.tcp://\S+): ")]
    private static partial Regex CoordinatorLine();

    private sealed class Counts
    {
        public long Connections;
        public long Garbled;
        public long Chunks;

        public override string ToString() => $"{Connections} raw connections, {Garbled} undecodable messages, {Chunks} forged chunks";
    }
}

/// <summary>A rogue's message: these bytes, sent under the ring serializer's id with this manifest.</summary>
public sealed record RawFrame(string Manifest, byte[] Bytes);

/// <summary>The rogue's serializer: claims the ring serializer's id and sends whatever bytes it is given.</summary>
public sealed class RawFrames(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public override int Identifier => RingMessageSerializer.Id;

    public override byte[] ToBinary(object obj) => ((RawFrame)obj).Bytes;

    public override object FromBinary(byte[] bytes, string manifest) => new RawFrame(manifest, bytes);

    public override string Manifest(object o) => ((RawFrame)o).Manifest;
}
