using Akka.Actor;
using RingActors.Actors.Cluster;

namespace RingActors.Actors.Tests.Cluster;

/// <summary>A node's agent crashes its node only on the order of a ring supervisor here or on an Up coordinator.</summary>
public class CrashOrderPolicySpec
{
    private static readonly Address Self = Address.Parse("akka.tcp://ring@127.0.0.1:4054");
    private static readonly Address Coordinator = Address.Parse("akka.tcp://ring@127.0.0.1:4053");
    private static readonly Address Stranger = Address.Parse("akka.tcp://ring@127.0.0.1:4999");
    private static readonly IReadOnlyCollection<Address> Coordinators = [Coordinator];

    [Fact]
    public void CrashOrderPolicy_must_obey_a_supervisor_on_a_coordinator_or_on_this_node()
    {
        Assert.Null(CrashOrderPolicy.Refusal(new RootActorPath(Coordinator) / "user" / "ring-3", Self, Coordinators));
        Assert.Null(CrashOrderPolicy.Refusal(new RootActorPath(Self) / "user" / "ring-1", Self, Coordinators));
        Assert.Null(CrashOrderPolicy.Refusal(ActorPath.Parse("akka://ring/user/ring-12"), Self, Coordinators));
    }

    [Fact]
    public void CrashOrderPolicy_must_refuse_a_member_that_is_not_a_coordinator_and_any_other_actor()
    {
        Assert.Contains("is not a coordinator member that is Up", CrashOrderPolicy.Refusal(new RootActorPath(Stranger) / "user" / "ring-1", Self, Coordinators), StringComparison.Ordinal);
        Assert.Contains("not sent by a ring supervisor", CrashOrderPolicy.Refusal(new RootActorPath(Coordinator) / "user" / "someone", Self, Coordinators), StringComparison.Ordinal);
        Assert.NotNull(CrashOrderPolicy.Refusal(new RootActorPath(Coordinator) / "user" / "ring-1" / "device-0", Self, Coordinators));
        Assert.NotNull(CrashOrderPolicy.Refusal(new RootActorPath(Coordinator) / "user" / "ring-", Self, Coordinators));
        Assert.NotNull(CrashOrderPolicy.Refusal(new RootActorPath(Coordinator) / "user" / "ring-1x", Self, Coordinators));
        Assert.NotNull(CrashOrderPolicy.Refusal(new RootActorPath(Coordinator) / "deadLetters", Self, Coordinators));
        Assert.NotNull(CrashOrderPolicy.Refusal(new RootActorPath(Coordinator) / "user" / "ring-1", Self, []));
    }
}
