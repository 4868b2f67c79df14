using Akka.Configuration;
using RingActors.Actors.Cluster;
using RingActors.Actors.Faults;
using RingActors.Math;

namespace RingActors.Actors.Tests.Cluster;

/// <summary>
/// Node faults on a cluster of four ActorSystems in this process (a coordinator and three device nodes): crash-node aborts a
/// device node's actor system without leaving (<see cref="NodeAgent.AbortSystem"/>), the coordinator sees it unreachable and
/// re-creates its device on a survivor, and the output still equals the float64 oracle; with every device node gone the job
/// fails with one reason. Failure detection and the split-brain resolver are shortened so a crash is seen in about a second.
/// </summary>
[Collection(ClusterCollection.Name)]
public class ClusterFaultSpec
{
    private static readonly TimeSpan UpTimeout = CrashableNodes.UpTimeout;

    private static readonly Config Fast = CrashableNodes.Fast;

    [Fact]
    public async Task A_crashed_device_node_must_have_its_device_recreated_on_a_survivor_and_the_output_equal_the_oracle()
    {
        await using var cluster = await CrashableNodes.StartAsync(3);
        var placement = cluster.Members;
        var input = AttentionInput.Random(new AttentionShape(1, 4, 2, 257, 64), seed: 5);

        // Device 1 is slowed so that its node (node 1, device 1's) dies while the ring still needs it.
        var plan = new FaultPlan([FaultSpec.Parse("crash-node:1@1"), FaultSpec.Parse("slow-device:1*300")], Seed: 1).ValidateFor(3, cluster: true);
        var settings = new RingJobSettings(3, LayoutKind.Zigzag, Causal: true, Deadline: TimeSpan.FromSeconds(30)) { Placement = placement, Faults = plan };

        var result = await RingRunner.RunAsync(cluster.Coordinator.System, input, settings);

        var (expected, _) = ReferenceAttention.Compute(input, settings.OptionsFor(1));
        Assert.True(ErrorMetrics.Compare(result.Output, expected).RelativeError < 1e-5);
        Assert.NotEqual(placement[1].ToString(), result.Placement![1]);
        Assert.Equal(1, result.Faults!.Restarts);
        Assert.Contains(result.Faults.Records, r => r.Fault == "crash-node:1@1");
    }

    [Fact]
    public async Task The_single_process_faults_must_recover_unchanged_with_remote_devices()
    {
        await using var cluster = await TwoDeviceNodes.StartAsync();
        var (coordinator, placement) = (cluster.Coordinator, cluster.Placement);
        var input = AttentionInput.Random(new AttentionShape(1, 4, 2, 257, 16), seed: 8);
        var faults = new[] { "kill-device:1@1", "drop:0.2", "duplicate:0.2", "delay:2~1", "slow-device:2*2" }.Select(FaultSpec.Parse).ToList();
        var plan = new FaultPlan(faults, Seed: 3, AckTimeout: TimeSpan.FromMilliseconds(100)).ValidateFor(3, cluster: true);
        var settings = new RingJobSettings(3, LayoutKind.Zigzag, Causal: true, Deadline: TimeSpan.FromSeconds(30)) { Placement = placement, Faults = plan };

        var result = await RingRunner.RunAsync(coordinator.System, input, settings);

        var (expected, _) = ReferenceAttention.Compute(input, settings.OptionsFor(1));
        Assert.True(ErrorMetrics.Compare(result.Output, expected).RelativeError < 1e-5);
        Assert.Equal(1, result.Faults!.Restarts);
        Assert.Equal(placement[1].ToString(), result.Placement![1]); // its node is alive: the new incarnation goes back there
    }

    [Fact]
    public async Task A_partition_longer_than_the_retries_must_be_bridged_by_the_links_and_the_output_equal_the_oracle()
    {
        await using var cluster = await TwoDeviceNodes.StartAsync();
        var (coordinator, placement) = (cluster.Coordinator, cluster.Placement);
        var input = AttentionInput.Random(new AttentionShape(1, 4, 2, 257, 16), seed: 7);

        // Node 1 is cut off from the start (its devices' first hand-offs cannot cross) for 1.5 s, while 2 retries of 100 ms would give up after 0.3 s: only the partition's end is awaited.
        var plan = new FaultPlan([FaultSpec.Parse("partition:1@0+1.5")], Seed: 1, Retries: 2, AckTimeout: TimeSpan.FromMilliseconds(100)).ValidateFor(3, cluster: true);
        var settings = new RingJobSettings(3, LayoutKind.Zigzag, Causal: false, Deadline: TimeSpan.FromSeconds(30)) { Placement = placement, Faults = plan };

        var result = await RingRunner.RunAsync(coordinator.System, input, settings);

        var (expected, _) = ReferenceAttention.Compute(input, settings.OptionsFor(1));
        Assert.True(ErrorMetrics.Compare(result.Output, expected).RelativeError < 1e-5);
        Assert.Equal(0, result.Faults!.Restarts);
        Assert.Contains(result.Faults.Records, r => r.Fault == "partition:1@0+1.5");
    }

    [Fact]
    public async Task A_plan_that_crashes_every_device_node_must_fail_with_one_reason()
    {
        var coordinator = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Coordinator, Port = 0, Config = Fast });
        var node = coordinator;
        try
        {
            await coordinator.WhenUp.WaitAsync(UpTimeout);
            var seeds = new[] { coordinator.Address.ToString() };
            node = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Port = 0, Seeds = seeds, Config = Fast, Crash = NodeAgent.AbortSystem });
            var members = await ClusterMembership.WaitForUpAsync(coordinator.System, ClusterRoles.Device, 1, UpTimeout);
            var input = AttentionInput.Random(new AttentionShape(1, 2, 1, 31, 16), seed: 6);
            var plan = new FaultPlan([FaultSpec.Parse("crash-node:0@0"), FaultSpec.Parse("slow-device:0*1000")]).ValidateFor(2, cluster: true);
            var settings = new RingJobSettings(2, LayoutKind.Contiguous, Causal: false, Deadline: TimeSpan.FromSeconds(30))
            {
                Placement = new DevicePlacement([members[0].Address, members[0].Address]),
                Faults = plan,
            };

            var failure = await Assert.ThrowsAsync<RingJobException>(() => RingRunner.RunAsync(coordinator.System, input, settings));

            Assert.Contains("every device node is gone", failure.Reason, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', failure.Reason);
        }
        finally
        {
            await CrashableNodes.StopAsync([node, coordinator]);
        }
    }

    /// <summary>A coordinator and two device nodes, Up, with three devices placed round-robin over the two.</summary>
    private sealed class TwoDeviceNodes : IAsyncDisposable
    {
        private readonly ClusterNode[] _nodes;

        private TwoDeviceNodes(ClusterNode[] nodes, DevicePlacement placement)
        {
            _nodes = nodes;
            Placement = placement;
        }

        public ClusterNode Coordinator => _nodes[0];

        public DevicePlacement Placement { get; }

        public static async Task<TwoDeviceNodes> StartAsync()
        {
            var coordinator = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Coordinator, Port = 0, Config = Fast });
            var nodes = new List<ClusterNode> { coordinator };
            try
            {
                await coordinator.WhenUp.WaitAsync(UpTimeout);
                var seeds = new[] { coordinator.Address.ToString() };
                nodes.Add(ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Port = 0, Seeds = seeds, Config = Fast }));
                nodes.Add(ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Port = 0, Seeds = seeds, Config = Fast }));
                var members = await ClusterMembership.WaitForUpAsync(coordinator.System, ClusterRoles.Device, 2, UpTimeout);
                return new TwoDeviceNodes([.. nodes], DevicePlacement.Place("round-robin", 3, members.Select(m => m.Address).ToList()));
            }
            catch
            {
                await CrashableNodes.StopAsync(nodes);
                throw;
            }
        }

        public async ValueTask DisposeAsync() => await CrashableNodes.StopAsync(_nodes);
    }
}
