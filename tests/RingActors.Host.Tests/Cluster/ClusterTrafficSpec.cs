using RingActors.Actors;
using RingActors.Actors.Cluster;
using RingActors.Host.Benchmarks;
using RingActors.Host.Commands;
using RingActors.Math;
using RingActors.Math.Verification;
using Xunit.Abstractions;

namespace RingActors.Host.Tests.Cluster;

/// <summary>
/// The ring on three device node processes, checked from outside the code: the kernel's per-connection TCP counters
/// (<c>ss -tinp</c>) read before and after the job show every hand-off going from device r's node to device r+1's, and the
/// coordinator carrying only the chunks out and the results back — never a block of the ring.
/// </summary>
[Collection(MultiProcessCollection.Name)]
[Trait("Category", "MultiProcess")]
public sealed class ClusterTrafficSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private const long MiB = 1 << 20;

    [Fact]
    public async Task Cluster_ring_must_hand_off_node_to_node_as_the_operating_system_counts_it()
    {
        using var cluster = await DeviceNodes.StartAsync(3, Timeout, output);
        await using var coordinator = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Coordinator, Port = 0, Seeds = [cluster.Seed] });
        await coordinator.WhenUp.WaitAsync(Timeout);
        var members = await ClusterMembership.WaitForUpAsync(coordinator.System, ClusterRoles.Device, 3, Timeout);
        var placement = DevicePlacement.Place("round-robin", 3, members.Select(m => m.Address).ToList());
        var pidOf = new Dictionary<string, int>();
        foreach (var node in cluster.Nodes)
        {
            pidOf[await node.Up] = node.Id;
        }

        // The issue's job: N = 12288 over 3 devices, H = Hkv = 2, d = 64, full mask; each block of K and V is 4 MiB.
        var shape = new AttentionShape(1, 2, 2, 12288, 64);
        var input = AttentionInput.Random(shape, seed: 11);
        var job = ClusterRun.OnCluster(new RingJobSettings(3, LayoutKind.Contiguous, Causal: false, Deadline: TimeSpan.FromSeconds(90)), placement);
        var before = TcpSockets.Read(processes: true) ?? throw new InvalidOperationException("ss (iproute2) is needed to read the kernel's TCP counters");

        var result = await RingRunner.RunAsync(coordinator.System, input, job);

        // Read while every connection is still open: the coordinator has not left yet.
        var flows = TcpSockets.Flows(before, TcpSockets.Read(processes: true)!);
        long Flow(int from, int to) => flows.GetValueOrDefault((from, to));
        var me = Environment.ProcessId;
        var nodes = Enumerable.Range(0, 3).Select(r => pidOf[placement[r].ToString()]).ToArray();
        foreach (var ((from, to), bytes) in flows.OrderBy(f => f.Key))
        {
            output.WriteLine($"{(from == me ? "coordinator" : $"node pid {from}")} → {(to == me ? "coordinator" : $"node pid {to}")}: {bytes:N0} bytes");
        }

        // The float64 reference on 512 sampled rows (each device's first, middle and last among them): a dense float64 oracle
        // of N = 12288 took longer than the whole job.
        var boundaries = Enumerable.Range(0, 3).SelectMany(r => new[] { r * shape.SeqLen / 3, (r * shape.SeqLen / 3) + (shape.SeqLen / 6), ((r + 1) * shape.SeqLen / 3) - 1 });
        var sample = RowSample.Choose(shape, job.OptionsFor(1), 512, seed: 11, boundaries);
        var check = ReferenceCheck.Verify(input, job.OptionsFor(1), result.Output, result.Lse, sample, threads: 2);
        Assert.True(check.Passes(1e-5), $"relative error {check.Error.RelativeError}, worst row {check.WorstRowError}");

        var chunkBytes = (long)shape.KvHeads * (shape.SeqLen / 3) * shape.HeadDim * sizeof(float);
        var block = 2 * chunkBytes;
        var queries = (long)shape.Heads * (shape.SeqLen / 3) * shape.HeadDim * sizeof(float);
        for (var r = 0; r < 3; r++)
        {
            var (node, successor) = (nodes[r], nodes[(r + 1) % 3]);

            // Each device hands P − 1 = 2 blocks to its successor: they cross from its node to the successor's, once — and
            // again only for a frame the device itself retransmitted (an acknowledgement late on a loaded machine).
            var resent = result.Devices[r].Retransmissions;
            Assert.InRange(Flow(node, successor), 2 * block, ((2 + resent) * block) + (2 * MiB));

            // Back towards the predecessor go only acknowledgements and credits (and gossip): far less than one block.
            Assert.InRange(Flow(successor, node), 0, MiB);

            // The device's own count of what it sent its successor agrees with the kernel's within the frames' headers and gossip.
            var counted = result.Devices[r].NetworkBytesToSuccessor;
            Assert.InRange(counted, 2 * block, (2 + resent) * block * 1.01);
            Assert.InRange(Flow(node, successor) - counted, -MiB / 4, MiB);
        }

        // The coordinator: chunks (Q, K, V of each device) out, results (output and lse) back, within 5% and 1 MiB of gossip.
        var toNodes = nodes.Sum(n => Flow(me, n));
        var fromNodes = nodes.Sum(n => Flow(n, me));
        var setup = 3 * (queries + block);
        var results = 3 * (queries + ((long)shape.Heads * (shape.SeqLen / 3) * sizeof(float)));
        Assert.InRange(toNodes, setup, (setup * 1.05) + MiB);
        Assert.InRange(fromNodes, results, (results * 1.05) + MiB);
        Assert.InRange(result.SupervisorNetworkBytes, setup, setup * 1.01);
    }
}
