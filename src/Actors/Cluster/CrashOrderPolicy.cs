using Akka.Actor;
using RingActors.Actors.Protocol;

namespace RingActors.Actors.Cluster;

/// <summary>
/// Whether a node's agent obeys a <see cref="CrashOrder"/>, with no Akka actor: only from a ring supervisor (/user/ring-N)
/// in this actor system or on a member that is Up with the coordinator role. A device member, a process that never joined,
/// or any other actor is refused. Without TLS the coordinator role is a string a joining process declares itself, and Akka
/// remoting does not authenticate the sender path, so this keeps out strangers and mistakes; TLS decides who may be a
/// member at all (docs/security.md).
/// </summary>
public static class CrashOrderPolicy
{
    /// <summary>Null when the order from <paramref name="sender"/> is to be obeyed; otherwise why not, in a few words.</summary>
    public static string? Refusal(ActorPath sender, Address self, IReadOnlyCollection<Address> coordinators)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(self);
        ArgumentNullException.ThrowIfNull(coordinators);
        if (!SenderPaths.IsSupervisor(sender))
        {
            return "not sent by a ring supervisor (/user/ring-N)";
        }

        var local = !sender.Address.HasGlobalScope || sender.Address.Equals(self);
        return local || coordinators.Contains(sender.Address)
            ? null
            : $"{sender.Address} is not a coordinator member that is Up";
    }
}
