using Akka.Actor;
using RingActors.Actors.Cluster;
using RingActors.Actors.Faults;

namespace RingActors.Actors.Tests.Supervision;

public class RecoveryPolicySpec
{
    private static readonly Address A = new("akka.tcp", "ring", "127.0.0.1", 4001);
    private static readonly Address B = new("akka.tcp", "ring", "127.0.0.1", 4002);

    [Fact]
    public void RecoveryPolicy_must_give_up_without_a_plan_with_the_cause_as_the_reason()
    {
        var policy = new RecoveryPolicy(null, 3);

        var decision = Assert.IsType<RecoveryDecision.GiveUp>(policy.Decide(1, "device 1 stopped", null, new HashSet<Address>()));

        Assert.Equal("device 1 stopped", decision.Reason);
        Assert.Equal(0, policy.Restarts);
    }

    [Fact]
    public void RecoveryPolicy_must_count_epochs_per_device_and_restarts_per_job_up_to_the_plans_limit()
    {
        var plan = FaultPlan.FromSpecs(["kill-device:1@1"]) with { MaxRestarts = 2 };
        var policy = new RecoveryPolicy(plan, 3);
        var none = new HashSet<Address>();

        Assert.Equal(new RecoveryDecision.Recreate(1, null), policy.Decide(1, "x", null, none));
        Assert.Equal(new RecoveryDecision.Recreate(2, null), policy.Decide(1, "x", null, none));
        var last = Assert.IsType<RecoveryDecision.GiveUp>(policy.Decide(0, "device 0 stopped", null, none));

        Assert.Equal("device 0 stopped; not re-created: max-restarts (2) reached (kill-device:1@1)", last.Reason);
        Assert.Equal((2, 0, 2), (policy.EpochOf(1), policy.EpochOf(0), policy.Restarts));
    }

    [Fact]
    public void RecoveryPolicy_must_place_a_recreated_device_on_a_survivor_or_give_up_when_none_is_left()
    {
        var policy = new RecoveryPolicy(FaultPlan.None, 2);
        var placement = new DevicePlacement([A, B]);

        Assert.Equal(new RecoveryDecision.Recreate(1, A), policy.Decide(1, "node lost", placement, new HashSet<Address> { B }));
        var gone = Assert.IsType<RecoveryDecision.GiveUp>(policy.Decide(0, "crash-node:0@0", placement, new HashSet<Address> { A, B }));
        Assert.StartsWith("crash-node:0@0: device 0 cannot be re-created, every device node is gone", gone.Reason, StringComparison.Ordinal);
    }
}
