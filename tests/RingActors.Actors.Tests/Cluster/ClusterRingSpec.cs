using Akka.Configuration;
using RingActors.Actors.Cluster;
using RingActors.Math;

namespace RingActors.Actors.Tests.Cluster;

/// <summary>
/// The ring with its devices deployed on other cluster members of this process (ActorSystems on port 0): the output
/// equals the float64 oracle, every device ran where it was placed, and bytes crossed between nodes — also with blocks
/// larger than max-message-bytes, which travel in chunks, and over TLS.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterRingSpec : IDisposable
{
    private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(20);

    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    [Theory]
    [InlineData(31, false, null, 1024 * 1024)]
    [InlineData(257, true, "window:33", 1024 * 1024)]
    [InlineData(257, true, "window:33", 4096)]
    [InlineData(257, false, null, 4096)]
    public async Task A_ring_placed_on_two_device_nodes_must_equal_the_oracle(int seqLen, bool causal, string? pattern, int maxMessageBytes)
    {
        // A small message cap makes every K/V block and chunk assignment travel in several BlockChunks.
        var caps = ConfigurationFactory.ParseString($"ring-actors.transport {{ max-message-bytes = {maxMessageBytes}, max-string-bytes = 1024 }}");
        var input = AttentionInput.Random(new AttentionShape(1, 4, 2, seqLen, 16), seed: seqLen);
        await RunOnClusterAsync(input, devices: 3, deviceNodes: 2, causal, pattern, new ClusterNodeOptions { Role = ClusterRoles.Device, Port = 0, Config = caps });
    }

    /// <summary>
    /// The supervisor reassembles every device's chunked result at once, and a device its block and its assignment from
    /// two senders: the transfer cap holds per link (sender), so one transfer per link is enough for six devices.
    /// </summary>
    [Fact]
    public async Task A_ring_must_reassemble_transfers_from_many_senders_at_once_with_one_transfer_per_link()
    {
        var caps = ConfigurationFactory.ParseString("ring-actors.transport { max-message-bytes = 4096, max-string-bytes = 1024, max-concurrent-transfers = 1 }");
        var input = AttentionInput.Random(new AttentionShape(1, 4, 2, 257, 16), seed: 6);
        await RunOnClusterAsync(input, devices: 6, deviceNodes: 2, causal: false, pattern: null, new ClusterNodeOptions { Role = ClusterRoles.Device, Port = 0, Config = caps });
    }

    /// <summary>
    /// The <c>run</c> default shape per device (N = 4096, Hkv = 2, d = 64 over P = 4: K+V of a block is 1 MiB, over the
    /// 1 MiB default cap once framed), with H = Hkv to keep the oracle quick: every block crosses in chunks.
    /// </summary>
    [Fact]
    public async Task A_ring_at_the_default_shape_must_chunk_its_blocks_and_equal_the_oracle()
    {
        var input = AttentionInput.Random(new AttentionShape(1, 2, 2, 4096, 64), seed: 4096);
        var blockFrame = 2L * input.Shape.KvHeads * (input.Shape.SeqLen / 4) * input.Shape.HeadDim * sizeof(float);
        Assert.True(blockFrame >= Actors.Serialization.TransportSettings.Default.MaxMessageBytes, "the spec's blocks must need chunking");

        await RunOnClusterAsync(input, devices: 4, deviceNodes: 2, causal: true, pattern: null, new ClusterNodeOptions { Role = ClusterRoles.Device, Port = 0 });
    }

    [Fact]
    public async Task A_ring_on_TLS_nodes_must_equal_the_oracle()
    {
        var ca = _certificates.CreateAuthority("ring-ca");
        var tls = new TlsOptions(ca.Issue("ring-node"), TestCertificates.Password) { Authorities = [ca.CertificatePath] };
        var caps = ConfigurationFactory.ParseString("ring-actors.transport { max-message-bytes = 8192, max-string-bytes = 1024 }");
        var input = AttentionInput.Random(new AttentionShape(1, 4, 2, 257, 16), seed: 7);
        await RunOnClusterAsync(input, devices: 3, deviceNodes: 2, causal: true, pattern: null, new ClusterNodeOptions { Role = ClusterRoles.Device, Port = 0, Config = caps, Tls = tls });
    }

    /// <summary>
    /// Starts a coordinator and <paramref name="deviceNodes"/> device nodes like <paramref name="node"/>, places the
    /// devices round-robin on the device nodes, and checks the ring's output against the oracle.
    /// </summary>
    private static async Task RunOnClusterAsync(AttentionInput input, int devices, int deviceNodes, bool causal, string? pattern, ClusterNodeOptions node)
    {
        await using var coordinator = ClusterNode.Start(node with { Role = ClusterRoles.Coordinator });
        await coordinator.WhenUp.WaitAsync(UpTimeout);
        var seeds = new[] { coordinator.Address.ToString() };
        var nodes = new List<ClusterNode>();
        try
        {
            for (var i = 0; i < deviceNodes; i++)
            {
                nodes.Add(ClusterNode.Start(node with { Role = ClusterRoles.Device, Seeds = seeds }));
            }

            var members = await ClusterMembership.WaitForUpAsync(coordinator.System, ClusterRoles.Device, deviceNodes, UpTimeout);
            var seqLen = input.Shape.SeqLen;
            var placement = Enumerable.Range(0, devices).Select(r => members[r % members.Count].Address).ToArray();
            var patternObject = pattern is null ? null : Math.Masks.PatternSpec.Parse(pattern, new Math.Masks.PatternContext(seqLen, devices, causal));
            var settings = new RingJobSettings(devices, LayoutKind.Zigzag, causal, patternObject, Deadline: TimeSpan.FromSeconds(60))
            {
                PatternSpec = pattern,
                PatternSeed = 3,
                Placement = new DevicePlacement(placement),
            };

            var result = await RingRunner.RunAsync(coordinator.System, input, settings);

            var (expected, _) = ReferenceAttention.Compute(input, settings.OptionsFor(1));
            var error = ErrorMetrics.Compare(result.Output, expected);
            Assert.True(error.RelativeError < 1e-5, $"relative error {error.RelativeError}");
            Assert.Equal(placement.Select(a => a.ToString()), result.Placement);
            Assert.True(result.NetworkBytes > input.Shape.QueryLength * sizeof(float), $"only {result.NetworkBytes} bytes crossed");

            // The devices' timelines came back with their results and were put on the coordinator's clock. These nodes share
            // one clock, so the true offset is 0: the estimate must lie within its stated uncertainty (half the start's round trip).
            var timeline = Assert.IsType<Math.Modelling.RingTimeline>(result.MeasuredTimeline);
            Assert.Equal(devices, timeline.Devices.Count);
            Assert.Equal(devices, result.ClockAlignments.Count);
            foreach (var alignment in result.ClockAlignments)
            {
                Assert.False(alignment.SameClock, $"device {alignment.Device} ran on another node");
                var offset = Assert.IsType<double>(alignment.OffsetSeconds);
                Assert.True(System.Math.Abs(offset) <= alignment.UncertaintySeconds + 1e-6, $"device {alignment.Device}: offset {offset} s beyond ± {alignment.UncertaintySeconds} s");
                var slack = alignment.UncertaintySeconds + 1e-6;
                Assert.All(timeline.Devices[alignment.Device].Intervals, i => Assert.InRange(i.Start, -slack, timeline.TotalSeconds + slack));
            }
        }
        finally
        {
            // All leave at once: one after another, each waited for the others' gossip (about a second per node).
            await Task.WhenAll(nodes.Select(started => started.DisposeAsync().AsTask()));
        }
    }
}
