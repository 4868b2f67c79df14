using Akka.Actor;
using RingActors.Actors.Protocol;

namespace RingActors.Actors.Devices;

/// <summary>
/// Whom a device takes orders and frames from, with no Akka actor: its supervisor (chunk, start, flush, partition), its
/// predecessor (blocks, frames, hellos) and its successor (credits, acknowledgements, refusals, resumes), as the refs it was
/// given. A neighbour re-created after a crash is a new ref that announces itself (<c>LinkHello</c> to its successor,
/// <c>LinkResume</c> to its predecessor); it is taken only when its epoch is newer than the one the device knows AND its path
/// is a child of the job's supervisor (every device is one, local or remotely deployed). Everything else is dropped by the
/// device. These are checks against strangers and stale incarnations, not against a peer that forges sender paths
/// (see <see cref="SenderPaths"/>).
/// </summary>
public sealed class DeviceSenders
{
    /// <summary>The supervisor, once the device has its chunk; Nobody before.</summary>
    public IActorRef Supervisor { get; private set; } = ActorRefs.Nobody;

    public IActorRef Predecessor { get; private set; } = ActorRefs.Nobody;

    public IActorRef Successor { get; private set; } = ActorRefs.Nobody;

    /// <summary>Whether the device has been given its neighbours (by its chunk).</summary>
    public bool IsWired => !Supervisor.IsNobody();

    /// <summary>
    /// Whether a chunk (<c>AssignChunk</c>, <c>RecoverChunk</c>) naming <paramref name="supervisor"/> may be taken from
    /// <paramref name="sender"/>: only from the supervisor it names, and that must be the device's parent — unless the parent
    /// is the user guardian (a device started directly by a program or spec rather than by a ring supervisor).
    /// </summary>
    public static bool TakesChunk(IActorRef sender, IActorRef supervisor, ActorPath parent)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(supervisor);
        ArgumentNullException.ThrowIfNull(parent);
        if (supervisor.IsNobody() || !sender.Equals(supervisor))
        {
            return false;
        }

        var startedByProgram = parent.Elements is ["user"];
        return startedByProgram || SamePath(supervisor.Path, parent);
    }

    /// <summary>Takes the refs a chunk named.</summary>
    public void Wire(IActorRef predecessor, IActorRef successor, IActorRef supervisor)
    {
        Predecessor = predecessor;
        Successor = successor;
        Supervisor = supervisor;
    }

    public bool IsSupervisor(IActorRef sender) => IsWired && sender.Equals(Supervisor);

    public bool IsPredecessor(IActorRef sender) => !Predecessor.IsNobody() && sender.Equals(Predecessor);

    public bool IsSuccessor(IActorRef sender) => !Successor.IsNobody() && sender.Equals(Successor);

    /// <summary>
    /// Whether a <c>LinkHello</c> from <paramref name="sender"/> may be heard: from the predecessor, or from a re-created one
    /// (<paramref name="newerEpoch"/>, and a child of the supervisor). The caller re-aims with <see cref="PredecessorIs"/>.
    /// </summary>
    public bool MayBePredecessor(IActorRef sender, bool newerEpoch) => IsPredecessor(sender) || (newerEpoch && IsSupervisorsChild(sender));

    /// <summary>The same for a <c>LinkResume</c> on the outgoing link; the caller re-aims with <see cref="SuccessorIs"/>.</summary>
    public bool MayBeSuccessor(IActorRef sender, bool newerEpoch) => IsSuccessor(sender) || (newerEpoch && IsSupervisorsChild(sender));

    public void PredecessorIs(IActorRef sender) => Predecessor = sender;

    public void SuccessorIs(IActorRef sender) => Successor = sender;

    /// <summary>
    /// Whether <paramref name="sender"/> may be another device of the job (a child of its supervisor): the backward's dK/dV
    /// contributions and their acknowledgements travel between any two devices, not only neighbours.
    /// </summary>
    public bool IsPeer(IActorRef sender) => IsSupervisorsChild(sender);

    private bool IsSupervisorsChild(IActorRef sender) =>
        IsWired && !sender.IsNobody() && SenderPaths.IsChildOf(sender.Path, Supervisor.Path);

    private static bool SamePath(ActorPath a, ActorPath b) =>
        a.Address.Equals(b.Address) && a.Elements.SequenceEqual(b.Elements, StringComparer.Ordinal);
}
