using Akka.Actor;
using RingActors.Actors.Devices;
using RingActors.Actors.Protocol;

namespace RingActors.Actors.Tests.Devices;

/// <summary>
/// Whom a device hears: its supervisor, its neighbours as given, and a re-created neighbour only when its epoch is newer and
/// it is a child of the job's supervisor (local or remotely deployed). Refs with chosen paths stand in for the actors.
/// </summary>
public sealed class DeviceSendersSpec : Akka.TestKit.Xunit2.TestKit
{
    private const string Coordinator = "akka.tcp://ring@127.0.0.1:4053";
    private const string DeviceNode = "akka.tcp://ring@127.0.0.1:4054";

    [Fact]
    public void SenderPaths_must_know_a_local_child_and_a_remotely_deployed_one_and_nothing_else()
    {
        var supervisor = ActorPath.Parse($"{Coordinator}/user/ring-1");
        Assert.True(SenderPaths.IsChildOf(ActorPath.Parse($"{Coordinator}/user/ring-1/device-2-e1"), supervisor));
        Assert.True(SenderPaths.IsChildOf(ActorPath.Parse($"{DeviceNode}/remote/akka.tcp/ring@127.0.0.1:4053/user/ring-1/device-2-e1"), supervisor));

        Assert.False(SenderPaths.IsChildOf(ActorPath.Parse($"{Coordinator}/user/ring-2/device-2-e1"), supervisor)); // another job
        Assert.False(SenderPaths.IsChildOf(ActorPath.Parse($"{Coordinator}/user/ring-1/device-2/compute"), supervisor)); // a grandchild
        Assert.False(SenderPaths.IsChildOf(ActorPath.Parse($"{DeviceNode}/user/ring-1/device-2-e1"), supervisor)); // another node's ring-1
        Assert.False(SenderPaths.IsChildOf(ActorPath.Parse($"{DeviceNode}/remote/akka.tcp/ring@127.0.0.1:4999/user/ring-1/device-2"), supervisor));
        Assert.False(SenderPaths.IsChildOf(ActorPath.Parse($"{DeviceNode}/remote/akka.ssl.tcp/ring@127.0.0.1:4053/user/ring-1/device-2"), supervisor));
        Assert.False(SenderPaths.IsChildOf(ActorPath.Parse($"{DeviceNode}/remote/akka.tcp/ring@127.0.0.1:4053/user/ring-1"), supervisor));
        Assert.False(SenderPaths.IsChildOf(ActorPath.Parse($"{DeviceNode}/user/remote/akka.tcp/ring@127.0.0.1:4053/user/ring-1/x"), supervisor));
    }

    [Fact]
    public void DeviceSenders_must_take_a_chunk_only_from_the_supervisor_it_names_when_that_is_the_parent()
    {
        var supervisor = Ref($"{Coordinator}/user/ring-1");
        var stranger = Ref($"{Coordinator}/user/ring-2");

        Assert.True(DeviceSenders.TakesChunk(supervisor, supervisor, supervisor.Path));
        Assert.False(DeviceSenders.TakesChunk(stranger, supervisor, supervisor.Path)); // sent by another than it names
        Assert.False(DeviceSenders.TakesChunk(stranger, stranger, supervisor.Path)); // names itself, is not the parent
        Assert.False(DeviceSenders.TakesChunk(Sys.DeadLetters, supervisor, supervisor.Path)); // no sender

        // A device a program started under /user (specs) takes its chunk from the supervisor the chunk names.
        Assert.True(DeviceSenders.TakesChunk(stranger, stranger, ActorPath.Parse("akka://test/user")));
    }

    [Fact]
    public void DeviceSenders_must_hear_its_neighbours_and_supervisor_and_nobody_else()
    {
        var (senders, supervisor, predecessor, successor) = Wired();
        var stranger = Ref($"{DeviceNode}/user/rogue");

        Assert.True(senders.IsSupervisor(supervisor));
        Assert.True(senders.IsPredecessor(predecessor));
        Assert.True(senders.IsSuccessor(successor));
        Assert.False(senders.IsSupervisor(predecessor));
        Assert.False(senders.IsPredecessor(successor));
        Assert.False(senders.IsSuccessor(predecessor));
        Assert.False(senders.IsSupervisor(stranger) || senders.IsPredecessor(stranger) || senders.IsSuccessor(stranger));
    }

    [Fact]
    public void DeviceSenders_must_take_a_recreated_neighbour_only_with_a_newer_epoch_and_as_a_child_of_the_supervisor()
    {
        var (senders, _, predecessor, successor) = Wired();
        var newPredecessor = Ref($"{DeviceNode}/remote/akka.tcp/ring@127.0.0.1:4053/user/ring-1/device-0-e1");
        var impostor = Ref($"{DeviceNode}/user/device-0-e1");

        Assert.True(senders.MayBePredecessor(predecessor, newerEpoch: false)); // the current one asking where it stands
        Assert.False(senders.MayBePredecessor(newPredecessor, newerEpoch: false)); // not newer: not a re-creation
        Assert.False(senders.MayBePredecessor(impostor, newerEpoch: true)); // newer, but nobody the supervisor created
        Assert.True(senders.MayBePredecessor(newPredecessor, newerEpoch: true));
        senders.PredecessorIs(newPredecessor);
        Assert.True(senders.IsPredecessor(newPredecessor));
        Assert.False(senders.IsPredecessor(predecessor));

        var newSuccessor = Ref($"{Coordinator}/user/ring-1/device-2-e1");
        Assert.True(senders.MayBeSuccessor(successor, newerEpoch: false));
        Assert.False(senders.MayBeSuccessor(impostor, newerEpoch: true));
        Assert.True(senders.MayBeSuccessor(newSuccessor, newerEpoch: true));
    }

    [Fact]
    public void DeviceSenders_must_hear_nobody_before_it_is_wired()
    {
        var senders = new DeviceSenders();
        var child = Ref($"{Coordinator}/user/ring-1/device-0-e1");
        Assert.False(senders.IsSupervisor(Sys.DeadLetters));
        Assert.False(senders.MayBePredecessor(child, newerEpoch: true));
    }

    private (DeviceSenders Senders, IActorRef Supervisor, IActorRef Predecessor, IActorRef Successor) Wired()
    {
        var supervisor = Ref($"{Coordinator}/user/ring-1");
        var predecessor = Ref($"{DeviceNode}/remote/akka.tcp/ring@127.0.0.1:4053/user/ring-1/device-0");
        var successor = Ref($"{Coordinator}/user/ring-1/device-2");
        var senders = new DeviceSenders();
        senders.Wire(predecessor, successor, supervisor);
        return (senders, supervisor, predecessor, successor);
    }

    /// <summary>A ref with the given path (no actor behind it): what a device compares senders against.</summary>
    private IActorRef Ref(string path)
    {
        var system = (ExtendedActorSystem)Sys;
        return new EmptyLocalActorRef(system.Provider, ActorPath.Parse(path), system.EventStream);
    }
}
