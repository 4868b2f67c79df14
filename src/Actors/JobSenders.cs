using Akka.Actor;

namespace RingActors.Actors;

/// <summary>
/// Whom a ring supervisor takes messages from, with no Akka actor: device events (progress, results, faults, refusals,
/// failures) only from the devices it spawned, any incarnation (a killed device's last event may come after its
/// Terminated); <c>RunJob</c> only from this process; <c>CancelJob</c> only when the caller's own cancellation token has
/// fired. The supervisor's name (/user/ring-N) is predictable and Akka remoting does not authenticate a message's sender,
/// so a cancellation is decided by the token, which no peer can reach, not by who sent the message.
/// </summary>
public sealed class JobSenders(CancellationToken cancellation)
{
    private readonly HashSet<IActorRef> _devices = [];

    /// <summary>A device (or a re-created incarnation of one) the supervisor has spawned.</summary>
    public void Spawned(IActorRef device)
    {
        ArgumentNullException.ThrowIfNull(device);
        _devices.Add(device);
    }

    /// <summary>Whether <paramref name="sender"/> is a device this supervisor spawned.</summary>
    public bool IsDevice(IActorRef sender) => sender is not null && _devices.Contains(sender);

    /// <summary>Whether a <c>CancelJob</c> is to be obeyed: only once the caller's token asked for it.</summary>
    public bool MayCancel => cancellation.IsCancellationRequested;

    /// <summary>Whether <paramref name="sender"/> may start the job: a local actor (the caller's ask), never another node.</summary>
    public static bool MayRun(IActorRef sender) => sender is not null && !sender.Path.Address.HasGlobalScope;
}
