using Akka.Actor;

namespace RingActors.Actors.Protocol;

/// <summary>
/// Path arithmetic for deciding who may send what. Akka remoting does not authenticate the sender field of a message (a peer
/// that can connect writes whatever sender path it likes), so these checks keep out strangers, confused peers and stale
/// incarnations; the boundary against a peer that forges senders is who may connect at all (TLS, docs/security.md).
/// </summary>
public static class SenderPaths
{
    /// <summary>Name prefix of the ring supervisors RingRunner creates under /user (ring-1, ring-2, …).</summary>
    public const string SupervisorPrefix = "ring-";

    /// <summary>
    /// Whether <paramref name="candidate"/> is a child of <paramref name="parent"/>: a local child (its parent path is the
    /// parent's), or one the parent deployed on another node, whose path there is
    /// <c>…/remote/{protocol}/{system@host:port of the parent}/{the parent's elements}/{name}</c> (Akka's remote deployment).
    /// </summary>
    public static bool IsChildOf(ActorPath candidate, ActorPath parent)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(parent);
        if (candidate.Parent is { } direct && SamePath(direct, parent))
        {
            return true;
        }

        var elements = candidate.Elements;
        var parentElements = parent.Elements;
        if (parent.Address.Host is null || elements.Count != 3 + parentElements.Count + 1 || elements[0] != "remote")
        {
            return false;
        }

        if (elements[1] != parent.Address.Protocol || elements[2] != parent.Address.HostPort())
        {
            return false;
        }

        for (var i = 0; i < parentElements.Count; i++)
        {
            if (elements[3 + i] != parentElements[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="path"/> is a ring supervisor's: /user/ring-N with N a positive number.</summary>
    public static bool IsSupervisor(ActorPath path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var elements = path.Elements;
        return elements.Count == 2 && elements[0] == "user" && elements[1].StartsWith(SupervisorPrefix, StringComparison.Ordinal)
            && elements[1].Length > SupervisorPrefix.Length && elements[1].AsSpan(SupervisorPrefix.Length).IndexOfAnyExceptInRange('0', '9') < 0;
    }

    /// <summary>Elements and address equal; the uid (incarnation) is ignored, as a path written by a peer may omit it.</summary>
    private static bool SamePath(ActorPath a, ActorPath b) =>
        a.Address.Equals(b.Address) && a.Elements.SequenceEqual(b.Elements, StringComparer.Ordinal);
}
