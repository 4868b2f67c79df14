using Akka.Actor;
using RingActors.Actors.Cluster;
using RingActors.Actors.Faults;

namespace RingActors.Actors.Tests.Supervision;

public class NodeFaultScheduleSpec
{
    private static readonly Address A = new("akka.tcp", "ring", "127.0.0.1", 4001);
    private static readonly Address B = new("akka.tcp", "ring", "127.0.0.1", 4002);
    private static readonly DevicePlacement Placement = new([A, B, A, B]);

    [Fact]
    public void NodeFaultSchedule_must_strike_once_when_a_device_of_the_node_reaches_the_step()
    {
        var schedule = new NodeFaultSchedule(FaultPlan.FromSpecs(["crash-node:1@2", "drop:0.5"]));

        Assert.Empty(schedule.Due(1, 1, Placement));
        Assert.Empty(schedule.Due(0, 3, Placement)); // device 0 is on node 0
        var due = Assert.Single(schedule.Due(3, 2, Placement));
        Assert.Equal((B, "crash-node:1@2"), (due.Node, due.Fault.ToString()));
        Assert.Empty(due.Links);
        Assert.Empty(schedule.Due(1, 3, Placement));
    }

    [Fact]
    public void NodeFaultSchedule_must_cut_every_link_that_touches_the_partitioned_node_at_the_right_end()
    {
        var schedule = new NodeFaultSchedule(FaultPlan.FromSpecs(["partition:0@0+1.5"]));

        var due = Assert.Single(schedule.Due(2, 0, Placement));

        // Node 0 runs devices 0 and 2: links 0→1 and 2→3 are cut at the sender, links 1→2 and 3→0 at the receiver.
        Assert.Equal([(0, true, false), (1, false, true), (2, true, false), (3, false, true)], due.Links);
    }

    [Fact]
    public void NodeFaultSchedule_must_name_a_fault_whose_node_the_placement_lacks()
    {
        Assert.Null(new NodeFaultSchedule(FaultPlan.FromSpecs(["crash-node:1@0"])).Unresolved(Placement));
        var reason = new NodeFaultSchedule(FaultPlan.FromSpecs(["crash-node:5@0"])).Unresolved(Placement);
        Assert.Equal($"fault 'crash-node:5@0': no device node '5'; give an index into the placement's nodes or an address: 0={A}, 1={B}", reason);
        Assert.Null(new NodeFaultSchedule(null).Unresolved(Placement));
    }
}
