using Akka.Configuration;
using RingActors.Actors.Cluster;
using RingActors.Math;

namespace RingActors.Actors.Tests.Cluster;

/// <summary>
/// The ring with its devices deployed on other cluster members of this process (three ActorSystems on port 0): the output
/// equals the float64 oracle, every device ran where it was placed, and bytes crossed between nodes — also with blocks
/// larger than max-message-bytes, which travel in chunks.
/// </summary>
[Collection(ClusterCollection.Name)]
public class ClusterRingSpec
{
    private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(31, false, null, 1024 * 1024)]
    [InlineData(257, true, "window:33", 1024 * 1024)]
    public async Task A_ring_placed_on_two_device_nodes_must_equal_the_oracle(int seqLen, bool causal, string? pattern, int maxMessageBytes)
    {
        // A small message cap makes every K/V block and chunk assignment travel in several BlockChunks.
        var caps = ConfigurationFactory.ParseString($"ring-actors.transport {{ max-message-bytes = {maxMessageBytes}, max-string-bytes = 1024 }}");
        await using var coordinator = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Coordinator, Port = 0, Config = caps });
        await coordinator.WhenUp.WaitAsync(UpTimeout);
        var seeds = new[] { coordinator.Address.ToString() };
        await using var first = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Port = 0, Seeds = seeds, Config = caps });
        await using var second = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Port = 0, Seeds = seeds, Config = caps });
        var members = await ClusterMembership.WaitForUpAsync(coordinator.System, ClusterRoles.Device, 2, UpTimeout);

        var input = AttentionInput.Random(new AttentionShape(1, 4, 2, seqLen, 16), seed: seqLen);
        var placement = Enumerable.Range(0, 3).Select(r => members[r % members.Count].Address).ToArray();
        var patternObject = pattern is null ? null : Math.Masks.PatternSpec.Parse(pattern, new Math.Masks.PatternContext(seqLen, 3, causal));
        var settings = new RingJobSettings(3, LayoutKind.Zigzag, causal, patternObject, Deadline: TimeSpan.FromSeconds(25))
        {
            PatternSpec = pattern,
            PatternSeed = 3,
            Placement = placement,
        };

        var result = await RingRunner.RunAsync(coordinator.System, input, settings);

        var (expected, _) = ReferenceAttention.Compute(input, settings.OptionsFor(1));
        Assert.True(ErrorMetrics.Compare(result.Output, expected).RelativeError < 1e-5);
        Assert.Equal(placement.Select(a => a.ToString()), result.Placement);
        Assert.True(result.NetworkBytes > input.Shape.QueryLength * sizeof(float), $"only {result.NetworkBytes} bytes crossed");
    }
}
