using RingActors.Actors.Devices;

namespace RingActors.Actors.Tests.Devices;

public class ComputeGateSpec
{
    [Fact]
    public void ComputeGate_must_admit_as_many_kernels_as_it_has_slots_at_once()
    {
        var gate = new ComputeGate(2);
        var admitted = new List<string>();

        gate.Enter(1, () => admitted.Add("a"));
        gate.Enter(1, () => admitted.Add("b"));
        gate.Enter(1, () => admitted.Add("c"));

        Assert.Equal(["a", "b"], admitted);
        Assert.Equal((0, 1), (gate.Free, gate.Waiting));
        gate.Leave();
        Assert.Equal(["a", "b", "c"], admitted);
        gate.Leave();
        gate.Leave();
        Assert.Equal((2, 0), (gate.Free, gate.Waiting));
    }

    [Fact]
    public void ComputeGate_must_give_a_freed_slot_to_the_most_work_left_and_to_the_first_among_equals()
    {
        var gate = new ComputeGate(1);
        var admitted = new List<string>();
        gate.Enter(0, () => admitted.Add("running"));
        foreach (var (name, workLeft) in new[] { ("small", 10L), ("large-first", 40L), ("medium", 25L), ("large-second", 40L), ("none", -5L) })
        {
            gate.Enter(workLeft, () => admitted.Add(name));
        }

        for (var i = 0; i < 5; i++)
        {
            gate.Leave();
        }

        Assert.Equal(["running", "large-first", "large-second", "medium", "small", "none"], admitted);
    }

    [Fact]
    public void ComputeGate_must_withdraw_an_abandoned_waiting_request_and_free_the_slot_of_an_abandoned_admitted_one()
    {
        var gate = new ComputeGate(1);
        var admitted = new List<string>();
        var first = gate.Enter(5, () => admitted.Add("first"));
        var waiting = gate.Enter(9, () => admitted.Add("withdrawn"));
        gate.Enter(1, () => admitted.Add("last"));

        gate.Abandon(waiting);
        Assert.Equal(1, gate.Waiting);

        // The first was admitted but its requester stopped before it ran: its slot goes on to the next waiting request.
        gate.Abandon(first);
        Assert.Equal(["first", "last"], admitted);
        gate.Abandon(first);
        gate.Abandon(waiting);
        Assert.Equal((0, 0), (gate.Free, gate.Waiting));
    }

    [Fact]
    public void ComputeGate_must_not_free_a_slot_twice_for_a_request_that_ran_and_must_refuse_a_leave_without_a_slot()
    {
        var gate = new ComputeGate(2);
        var request = gate.Enter(3, () => { });
        gate.Ran(request);
        gate.Leave();
        gate.Abandon(request);

        Assert.Equal(2, gate.Free);
        Assert.Throws<InvalidOperationException>(gate.Leave);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ComputeGate(0));
    }
}
