using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors.Protocol;

/// <summary>
/// The ring link from device <c>Link</c> to its successor, spoken directly between the two devices (on whichever nodes they
/// run): a hand-off travels as a numbered frame addressed to one incarnation (epoch) of the receiver and sent by one
/// incarnation of the sender; the receiver acknowledges it, the sender retransmits what is not acknowledged in time. When
/// either end is re-created, the receiving end tells the sending end which blocks it already holds and what it may send
/// (<see cref="LinkResume"/>), so no block is lost or merged twice.
/// </summary>
public static class LinkProtocol
{
    /// <summary>
    /// Sender → receiver: the hand-off <paramref name="Block"/>, number <paramref name="Sequence"/> of sender incarnation
    /// <paramref name="SenderEpoch"/> on link <paramref name="Link"/>, for receiver incarnation <paramref name="ReceiverEpoch"/>.
    /// A frame for another receiver epoch, or from an older sender epoch, is stale.
    /// </summary>
    public sealed record LinkFrame(string JobId, int Link, int SenderEpoch, int ReceiverEpoch, long Sequence, AcceptBlock Block) : IRingMessage;

    /// <summary>Receiver → sender: frame <paramref name="Sequence"/> of sender epoch <paramref name="SenderEpoch"/> arrived; <paramref name="Duplicate"/> when it had before.</summary>
    public sealed record LinkAck(string JobId, int Link, int SenderEpoch, long Sequence, bool Duplicate) : IRingMessage;

    /// <summary>Receiver → sender: the frame was refused, not merged (stale: addressed to another incarnation).</summary>
    public sealed record LinkRefused(string JobId, int Link, int SenderEpoch, long Sequence, string Reason) : IRingMessage;

    /// <summary>
    /// A re-created sender → its successor: incarnation <paramref name="SenderEpoch"/> of device <paramref name="Link"/> now
    /// sends on the link (its older incarnations' frames are stale from now on); the successor answers with <see cref="LinkResume"/>.
    /// </summary>
    public sealed record LinkHello(string JobId, int Link, int SenderEpoch, RingPass Pass = RingPass.Forward) : IRingMessage;

    /// <summary>
    /// Receiver → sender, when either end of the link was re-created: incarnation <paramref name="ReceiverEpoch"/> of the
    /// receiver holds (or has merged) the blocks of its steps <paramref name="StepsHeld"/>, and the sender may send
    /// <paramref name="Credits"/> blocks from now on (credits given to an older incarnation of the sender are void), in ring pass
    /// <paramref name="Pass"/> (a hello or resume of the forward arriving during the backward is dropped).
    /// </summary>
    public sealed record LinkResume(string JobId, int Link, int ReceiverEpoch, int Credits, IReadOnlyList<int> StepsHeld, RingPass Pass = RingPass.Forward) : IRingMessage;
}
