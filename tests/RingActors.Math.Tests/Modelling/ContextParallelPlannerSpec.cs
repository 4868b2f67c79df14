using RingActors.Math.Modelling;
using Xunit.Abstractions;

namespace RingActors.Math.Tests.Modelling;

public class ContextParallelPlannerSpec(ITestOutputHelper output)
{
    // 2 nodes × 4 devices; B = 2, N = 4096, H = 8, Hkv = 4, d = 64, bf16: every device holds N/P = 512 tokens.
    private const int B = 2, N = 4096, H = 8, Hkv = 4, D = 64, S = 2, P = 8;
    private const long C = N / P;

    private static readonly ClusterProfile TwoNodes = new("two-nodes", ProfileCatalog.Get("a100-nvlink"), 2, 4, 300e9, 2e-6, 12.5e9, 5e-6, NicSharing.PerNode, "test");
    private static readonly ClusterProfile FourNodesOfTwo = new ClusterProfile("two-per-node", ProfileCatalog.Get("a100-nvlink"), 4, 2, 300e9, 2e-6, 25e9, 5e-6, NicSharing.PerDevice, "test");

    private static CpRequest Request(ClusterProfile cluster, LayoutKind layout = LayoutKind.Zigzag, bool causal = true, int? perStep = null, int? ulysses = null) =>
        new(cluster, N, H, Hkv, D, ElementType.Bf16, layout, causal, B, KvHeadsPerStep: perStep, UlyssesDegree: ulysses);

    public static TheoryData<string, int?, int?> Strategies => new()
    {
        { "ring-pass-kv", null, null },
        { "pass-q", null, null },
        { "all-gather-kv", null, null },
        { "all-gather-kv", 1, null },
        { "all-gather-kv", 2, null },
        { "ulysses", null, null },
        { "usp", null, 2 },
        { "usp", null, 4 },
        { "hierarchical", null, null },
    };

    [Theory]
    [MemberData(nameof(Strategies))]
    public void Every_strategy_must_send_the_bytes_of_its_formula_counted_from_the_simulated_messages(string name, int? perStep, int? ulysses)
    {
        var strategy = CpGeometry.Parse(name);
        foreach (var cluster in new[] { TwoNodes, FourNodesOfTwo })
        {
            foreach (var layout in new[] { LayoutKind.Contiguous, LayoutKind.Zigzag, LayoutKind.Striped })
            {
                var plan = ContextParallelPlanner.Plan(Request(cluster, layout, perStep: perStep, ulysses: ulysses), strategy);
                var u = plan.Geometry.Ulysses;
                var q = P / u;
                var (bytes, messages) = Expected(strategy, u, q, perStep, cluster);
                foreach (var device in plan.Timeline.Traffic)
                {
                    Assert.Equal(bytes, device.BytesSent);
                    Assert.Equal(messages, device.MessagesSent);
                }

                Assert.Equal(bytes, plan.BytesSentPerDevice);
            }
        }
    }

    /// <summary>The formulas of docs/plan.md, written out here from B, N, P, H, Hkv, d and s, not from the planner.</summary>
    private static (long Bytes, int Messages) Expected(CpStrategy strategy, int u, int q, int? perStep, ClusterProfile cluster)
    {
        long Ulysses(int degree) => (degree - 1) * B * C * ((2 * H) + (2 * System.Math.Max(Hkv, degree))) * D * S / degree;
        long Ring(int kvHeads) => (q - 1) * B * C * 2 * kvHeads * D * S;
        return strategy switch
        {
            CpStrategy.RingPassKv => ((P - 1) * B * C * 2 * Hkv * D * S, P - 1),
            CpStrategy.PassQ => ((P - 1) * B * C * H * ((2 * D * S) + 4), 2 * (P - 1)),
            CpStrategy.AllGatherKv => ((P - 1) * B * C * 2 * Hkv * D * S, (P - 1) * (Hkv / (perStep ?? Hkv))),
            CpStrategy.Ulysses => (((P - 1) * B * C * ((2 * H) + (2 * System.Math.Max(Hkv, P))) * D * S) / P, 2 * (P - 1)),
            CpStrategy.Usp or CpStrategy.Hierarchical => (Ulysses(u) + Ring(System.Math.Max(Hkv, u)), (2 * (u - 1)) + (q - 1)),
            _ => throw new ArgumentOutOfRangeException(nameof(strategy)),
        } is var expected && strategy == CpStrategy.Hierarchical
            ? (u == cluster.DevicesPerNode ? expected : throw new InvalidOperationException($"hierarchical should put {cluster.DevicesPerNode} in a node, got {u}"))
            : expected;
    }

    [Fact]
    public void Training_must_report_the_forward_bytes_and_send_the_backward_on_top()
    {
        var forward = ContextParallelPlanner.Plan(Request(TwoNodes), CpStrategy.RingPassKv);
        var training = ContextParallelPlanner.Plan(Request(TwoNodes) with { Mode = PlanMode.Training }, CpStrategy.RingPassKv);
        const long kv = (P - 1) * B * C * 2 * Hkv * D * S;
        Assert.Equal(kv, training.BytesSentPerDevice);
        Assert.Equal(P - 1, training.MessagesPerDevice);
        // Backward carries dK/dV with K/V: 2 × the forward's bytes in another P − 1 messages.
        Assert.All(training.Timeline.Traffic, t => Assert.Equal(3 * kv, t.BytesSent));
        Assert.True(training.PredictedSeconds > 2.5 * forward.PredictedSeconds); // compute 3.5 ×, bytes 3 ×
    }

    [Fact]
    public void Ulysses_must_refuse_heads_that_cannot_be_split_in_one_line()
    {
        var request = new CpRequest(ClusterCatalog.Get("dgx-h100", 1), 8192, Heads: 12, KvHeads: 4, HeadDim: 64);
        var error = Assert.Throws<ArgumentException>(() => ContextParallelPlanner.Plan(request, CpStrategy.Ulysses));
        Assert.Equal("ulysses: 12 query heads per device cannot be split over 8 devices (heads must be divisible by the Ulysses degree)", error.Message);

        var comparison = ContextParallelPlanner.Compare(request);
        Assert.Contains(comparison.Refused, g => g.Strategy == CpStrategy.Ulysses);
        Assert.Contains(comparison.Plans, p => p.Strategy == CpStrategy.RingPassKv);
    }

    [Fact]
    public void Ulysses_must_replicate_kv_heads_when_fewer_than_devices()
    {
        var geometry = CpGeometry.Of(CpStrategy.Ulysses, Request(TwoNodes));
        Assert.True(geometry.KvReplicated);
        Assert.Equal(1, geometry.KvHeads);
        Assert.Equal(1, geometry.QueryHeads);
    }

    [Theory]
    [InlineData(LayoutKind.Contiguous, true)]
    [InlineData(LayoutKind.Zigzag, true)]
    [InlineData(LayoutKind.Striped, false)]
    public void Ring_pass_kv_on_a_flat_cluster_must_equal_the_ring_simulator_to_the_bit(LayoutKind layout, bool causal)
    {
        var profile = ProfileCatalog.Get("a100-infiniband");
        foreach (var devices in new[] { 1, 2, 4, 8 })
        {
            var expected = RingPlanner.Plan(new PlanRequest(profile, devices, 8192, 8, 2, 64, ElementType.Bf16, layout, causal, Batch: 1, RecordTimeline: false));
            var plan = ContextParallelPlanner.Plan(new CpRequest(ClusterProfile.Flat(profile, devices), 8192, 8, 2, 64, ElementType.Bf16, layout, causal), CpStrategy.RingPassKv);
            Assert.Equal(expected.PredictedSeconds, plan.PredictedSeconds);
            Assert.Equal(expected.TotalFlops, plan.TotalFlops);
            Assert.Equal(expected.Overlap, plan.Overlap, 1e-9);
        }
    }

    [Fact]
    public void Figures_must_print()
    {
        foreach (var p in ContextParallelPlanner.Compare(Request(TwoNodes)).Plans)
        {
            output.WriteLine($"{p.Name}: {p.PredictedSeconds} s overlap {p.Overlap} bytes {p.BytesSentPerDevice} mem {p.MemoryPerDeviceBytes}");
        }
    }
}
