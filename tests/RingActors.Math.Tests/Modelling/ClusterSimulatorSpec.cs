using RingActors.Math.Modelling;

namespace RingActors.Math.Tests.Modelling;

public class ClusterSimulatorSpec
{
    private const long Bytes = 1_000_000;

    // 2 nodes × 2 devices: switch ports of 100 MB/s... in GB: intra 1e9 B/s, NIC 1e8 B/s, no latency, so times are exact decimals.
    private static ClusterProfile Cluster(NicSharing nic) =>
        new("test", ProfileCatalog.Custom(1e12, 1e9, 0, 1L << 34), 2, 2, 1e9, 0, 1e8, 0, nic, "test");

    [Fact]
    public void Messages_sharing_a_node_nic_must_queue_and_per_device_nics_must_not()
    {
        foreach (var (nic, second) in new[] { (NicSharing.PerNode, 0.02), (NicSharing.PerDevice, 0.01) })
        {
            var schedule = new ClusterSchedule(4);
            schedule.Message(0, 2, Bytes, TaskPhase.Other, []);
            schedule.Message(1, 3, Bytes, TaskPhase.Other, []);
            var timeline = ClusterSimulator.Run(Cluster(nic), schedule, recordTasks: true);
            Assert.Equal(0.01, timeline.Tasks[0].End, 1e-15);
            Assert.Equal(second, timeline.Tasks[1].End, 1e-15);
        }
    }

    [Fact]
    public void Links_must_be_full_duplex_and_a_port_must_serialise_its_sends()
    {
        var schedule = new ClusterSchedule(4);
        schedule.Message(0, 1, Bytes, TaskPhase.Other, []);   // intra-node, 1 ms
        schedule.Message(1, 0, Bytes, TaskPhase.Other, []);   // the other direction: at the same time
        schedule.Message(0, 1, Bytes, TaskPhase.Other, []);   // the same port again: after the first
        var timeline = ClusterSimulator.Run(Cluster(NicSharing.PerDevice), schedule, recordTasks: true);
        Assert.Equal(0.001, timeline.Tasks[0].End, 1e-15);
        Assert.Equal(0.001, timeline.Tasks[1].End, 1e-15);
        Assert.Equal(0.002, timeline.Tasks[2].End, 1e-15);
        Assert.Equal(2 * Bytes, timeline.Traffic[0].BytesSent);
        Assert.Equal(2, timeline.Traffic[0].MessagesSent);
    }

    [Fact]
    public void A_compute_must_wait_for_its_message_and_count_the_hidden_part_of_the_next()
    {
        var schedule = new ClusterSchedule(4);
        var first = schedule.Message(0, 1, Bytes, TaskPhase.Other, []);                 // arrives at 1 ms
        schedule.Compute(1, 0.004, TaskPhase.Attention, [first]);                          // 1 ms .. 5 ms
        schedule.Message(0, 1, 2 * Bytes, TaskPhase.Other, [first]);                     // 1 ms .. 3 ms, hidden
        var timeline = ClusterSimulator.Run(Cluster(NicSharing.PerDevice), schedule, recordTasks: true);
        Assert.Equal(0.001, timeline.Tasks[1].Start, 1e-15);
        Assert.Equal(0.005, timeline.TotalSeconds, 1e-15);
        Assert.Equal(0.003, timeline.Traffic[1].ReceiveSeconds, 1e-15);
        Assert.Equal(0.002, timeline.Traffic[1].HiddenReceiveSeconds, 1e-15);
        Assert.Equal(2.0 / 3, timeline.Overlap, 1e-12);
    }

    [Fact]
    public void A_schedule_must_refuse_a_later_task_as_dependency_and_a_message_to_itself()
    {
        var schedule = new ClusterSchedule(2);
        Assert.Throws<ArgumentException>(() => schedule.Compute(0, 1, TaskPhase.Other, [5]));
        Assert.Throws<ArgumentException>(() => schedule.Message(1, 1, 1, TaskPhase.Other, []));
        Assert.Throws<ArgumentException>(() => schedule.Compute(2, 1, TaskPhase.Other, []));
    }
}
