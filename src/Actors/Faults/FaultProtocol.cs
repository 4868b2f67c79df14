using Akka.Actor;
using static RingActors.Actors.RingProtocol;

namespace RingActors.Actors.Faults;

/// <summary>
/// Messages of the acknowledged ring link used when a job runs under a <see cref="FaultPlan"/>: a hand-off travels as a
/// numbered frame addressed to one incarnation (epoch) of the receiving device, which acknowledges it; the link retransmits
/// what is not acknowledged in time and re-wires itself when the supervisor re-creates a device.
/// </summary>
public static class FaultProtocol
{
    /// <summary>
    /// Link → device: the hand-off <paramref name="Block"/>, number <paramref name="Sequence"/> on link <paramref name="Link"/>
    /// (from device Link to its successor), for incarnation <paramref name="Epoch"/> of the receiver. A frame of another epoch is stale.
    /// </summary>
    public sealed record LinkFrame(string JobId, int Link, int Epoch, long Sequence, AcceptBlock Block) : IRingMessage;

    /// <summary>Device → link: frame <paramref name="Sequence"/> arrived; <paramref name="Duplicate"/> when it had arrived before (dropped).</summary>
    public sealed record LinkAck(string JobId, int Link, int Epoch, long Sequence, bool Duplicate) : IRingMessage;

    /// <summary>Device → link: frame refused, not merged (a stale epoch: addressed to an incarnation from before a restart).</summary>
    public sealed record LinkRefused(string JobId, int Link, int Epoch, long Sequence, string Reason) : IRingMessage;

    /// <summary>
    /// Link → a re-created sender: the credits its predecessor incarnation had left and the steps (of the sender) whose
    /// hand-off the link already took; the new incarnation sends the others.
    /// </summary>
    public sealed record LinkResume(string JobId, int Credits, IReadOnlyList<int> StepsSent) : IRingMessage;

    /// <summary>Supervisor → link: the sending or receiving device of the link, with the receiver's epoch.</summary>
    public sealed record WireLink(IActorRef Sender, IActorRef Receiver, int ReceiverEpoch) : IRingMessage;

    /// <summary>Supervisor → link: the receiving device was re-created as <paramref name="Receiver"/> at <paramref name="Epoch"/>.</summary>
    public sealed record ReceiverReplaced(IActorRef Receiver, int Epoch) : IRingMessage;

    /// <summary>Supervisor → link: the sending device was re-created as <paramref name="Sender"/>; the link answers it with <see cref="LinkResume"/>.</summary>
    public sealed record SenderReplaced(IActorRef Sender) : IRingMessage;

    /// <summary>
    /// Supervisor → re-created device: its query chunk and every key/value block it needs, in step order (block s is the one
    /// of device (r − s) mod P), since the partial of its previous incarnation died with it.
    /// </summary>
    public sealed record RecoverChunk(string JobId, float[] Queries, int[] QueryPositions, IReadOnlyList<RingActors.Math.KeyValueBlock> Blocks) : IRingMessage;

    /// <summary>Device → supervisor: the device is stopping itself at <paramref name="Step"/> (kill-device) at Stopwatch time <paramref name="At"/>.</summary>
    public sealed record DeviceKilled(string JobId, int Device, int Step, long At) : IRingMessage;

    /// <summary>Supervisor → link: every chunk is in; report what is still unreported and answer <see cref="FaultsFlushed"/>.</summary>
    public sealed record FlushFaults(string JobId) : IRingMessage;

    /// <summary>Link → supervisor: every fault event of this link has been sent before this message.</summary>
    public sealed record FaultsFlushed(string JobId, int Link) : IRingMessage;

    /// <summary>Link → supervisor: a hand-off could not be delivered; the job cannot recover.</summary>
    public sealed record LinkFailed(string JobId, int Link, int Step, int Origin, int Attempts, string Reason) : IRingMessage;

    /// <summary>Link or device → supervisor: a fault happened (and perhaps was detected and recovered from).</summary>
    public sealed record FaultObserved(string JobId, FaultEvent Event) : IRingMessage;
}

/// <summary>
/// One injected fault as observed: Stopwatch timestamps of injection, detection and recovery (0 when not applicable),
/// how it was recovered, what it cost in retransmissions and extra bytes.
/// </summary>
public sealed record FaultEvent(
    string Fault,
    string Where,
    long InjectedAt,
    long DetectedAt,
    long RecoveredAt,
    string Recovery,
    int Retransmissions,
    long ExtraBytes);
