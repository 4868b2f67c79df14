namespace RingActors.Actors.Devices;

/// <summary>What a device does with one received link frame.</summary>
public enum FrameVerdict
{
    /// <summary>First arrival: acknowledge and admit the block.</summary>
    New,

    /// <summary>Seen before (a duplicate or a retransmission): acknowledge again, do nothing else.</summary>
    Duplicate,

    /// <summary>Addressed to another incarnation of this device, or sent by an older incarnation of the sender: refuse, never merge.</summary>
    Stale,
}

/// <summary>
/// The receiving end of one link on one device incarnation: frames for another receiver epoch, or from a sender incarnation
/// older than the newest one heard of, are stale; a sequence number seen before from the current sender is a duplicate.
/// Kept outside the actor so it can be tested without one.
/// </summary>
public sealed class LinkInbox(int epoch)
{
    private readonly HashSet<long> _seen = [];

    /// <summary>This receiver's incarnation.</summary>
    public int Epoch { get; } = epoch;

    /// <summary>The newest sender incarnation heard of.</summary>
    public int SenderEpoch { get; private set; }

    /// <summary>Frames refused as stale so far.</summary>
    public int Stale { get; private set; }

    /// <summary>Frames dropped as duplicates so far.</summary>
    public int Duplicates { get; private set; }

    /// <summary>
    /// A sender incarnation announced itself (or sent a frame): true when it is newer than the current one, whose frames are
    /// stale from now on (its sequence numbers start again).
    /// </summary>
    public bool SenderIs(int senderEpoch)
    {
        if (senderEpoch <= SenderEpoch)
        {
            return false;
        }

        SenderEpoch = senderEpoch;
        _seen.Clear();
        return true;
    }

    public FrameVerdict Receive(int receiverEpoch, int senderEpoch, long sequence)
    {
        SenderIs(senderEpoch);
        if (receiverEpoch != Epoch || senderEpoch < SenderEpoch)
        {
            Stale++;
            return FrameVerdict.Stale;
        }

        if (_seen.Add(sequence))
        {
            return FrameVerdict.New;
        }

        Duplicates++;
        return FrameVerdict.Duplicate;
    }
}
