using RingActors.Actors.Faults;
using RingActors.Math;
using RingActors.Math.Masks;

namespace RingActors.Actors.Tests.Cluster;

/// <summary>
/// A device lost on a cluster (kill-device, or its whole node with crash-node) is re-created by the same factory as the first
/// incarnation, so it keeps the ring's sparse pattern: with a window, BigBird, a block layout and a union, on a coordinator
/// and three device nodes in this process, the output equals the float64 oracle.
/// </summary>
[Collection(ClusterCollection.Name)]
public class ClusterPatternRecoverySpec
{
    private const int Tokens = 192;

    [Theory]
    [InlineData("causal-window:64", "kill-device:1@1")]
    [InlineData("bigbird:16:1:1", "kill-device:2@1")]
    [InlineData("block:64:100/110/111", "kill-device:0@2")]
    [InlineData("union:causal-window:32+global:0", "kill-device:1@2")]
    [InlineData("causal-window:64", "crash-node:1@1")]
    [InlineData("bigbird:16:1:1", "crash-node:2@1")]
    [InlineData("block:64:100/110/111", "crash-node:0@1")]
    [InlineData("union:causal-window:32+global:0", "crash-node:1@1")]
    public async Task A_lost_device_must_be_recreated_with_the_rings_pattern_and_the_output_equal_the_oracle(string pattern, string fault)
    {
        await using var cluster = await CrashableNodes.StartAsync(3);
        var placement = cluster.Members;
        var input = AttentionInput.Random(new AttentionShape(1, 2, 1, Tokens, 16), seed: 8);
        var spec = FaultSpec.Parse(fault);

        // A crashed node's device is slowed, so that its node dies while the ring still needs it.
        var faults = spec is FaultSpec.CrashNode crash ? [spec, FaultSpec.Parse($"slow-device:{crash.Node}*100")] : new List<FaultSpec> { spec };
        var plan = new FaultPlan(faults, Seed: 2).ValidateFor(3, cluster: true);
        var settings = new RingJobSettings(3, LayoutKind.Zigzag, Causal: true, PatternSpec.Parse(pattern, new PatternContext(Tokens, 3, true)), Deadline: TimeSpan.FromSeconds(40))
        {
            PatternSpec = pattern,
            PatternSeed = 3,
            Placement = placement,
            Faults = plan,
        };

        var result = await RingRunner.RunAsync(cluster.Coordinator.System, input, settings);

        var (expected, _) = ReferenceAttention.Compute(input, settings.OptionsFor(1));
        var error = ErrorMetrics.Compare(result.Output, expected);
        Assert.True(error.RelativeError < 1e-5, $"relative error {error.RelativeError}");
        Assert.Equal(1, result.Faults!.Restarts);
        Assert.Contains(result.Devices, d => d.Epoch == 1);
        Assert.Contains(result.Faults.Records, r => r.Fault == spec.ToString() && r.Occurrences == 1);
    }
}
