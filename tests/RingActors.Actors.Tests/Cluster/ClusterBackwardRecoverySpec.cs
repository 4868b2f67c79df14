using RingActors.Actors.Faults;
using RingActors.Actors.Tests.Backward;
using RingActors.Math;

namespace RingActors.Actors.Tests.Cluster;

/// <summary>
/// The backward ring on a coordinator and three device nodes in this process: fault-free, and with a device or its whole node
/// lost during the backward (step P + s) or between the passes: dQ, dK and dV still equal the float64 oracle (<see cref="BackwardRingSpec.Tolerance"/>).
/// </summary>
[Collection(ClusterCollection.Name)]
public class ClusterBackwardRecoverySpec
{
    // A crashed node's device is slowed so that its node dies while the backward still needs it. In the last case the other
    // devices are the slow ones: node 2 dies just after its device's forward result, before the backward starts.
    [Theory]
    [InlineData(null)]
    [InlineData("kill-device:1@4")]
    [InlineData("crash-node:1@4,slow-device:1*100")]
    [InlineData("crash-node:2@3,drop:0.1,slow-device:2*100")]
    [InlineData("crash-node:2@3,slow-device:0*100,slow-device:1*100")]
    public async Task A_device_lost_during_the_backward_must_be_recreated_and_the_gradients_equal_the_oracle(string? fault)
    {
        await using var cluster = await CrashableNodes.StartAsync(3);
        var input = AttentionInput.Random(new AttentionShape(1, 2, 1, 96, 16), seed: 8);
        var specs = fault is null ? [] : fault.Split(',').Select(FaultSpec.Parse).ToList();
        var plan = new FaultPlan(specs, Seed: 2).ValidateFor(3, cluster: true, backward: true);
        var settings = BackwardRingSpec.Settings(
            new RingJobSettings(3, LayoutKind.Zigzag, Causal: true, Deadline: TimeSpan.FromSeconds(40)) { Placement = cluster.Members, Faults = plan }, input, seed: 3);

        var result = await RingRunner.RunAsync(cluster.Coordinator.System, input, settings);

        BackwardRingSpec.AssertGradients(input, settings, result);
        Assert.All(result.BackwardDevices!, d => Assert.Equal(3, d.ContributionsSummed));
        Assert.True(result.BackwardDevices!.Sum(d => d.NetworkBytesSent) > 0, "the backward's hand-offs and contributions cross between nodes");
        if (fault is not null)
        {
            Assert.Equal(1, result.Faults!.Restarts);
            Assert.Contains(result.BackwardDevices!, d => d.Epoch == 1);
        }
    }
}
