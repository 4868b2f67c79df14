namespace RingActors.Actors.Faults;

/// <summary>What a device does with one received link frame.</summary>
public enum FrameVerdict
{
    /// <summary>First arrival: acknowledge and admit the block.</summary>
    New,

    /// <summary>Seen before (a duplicate or a retransmission): acknowledge again, do nothing else.</summary>
    Duplicate,

    /// <summary>Addressed to another incarnation of this device: refuse, never merge.</summary>
    Stale,
}

/// <summary>
/// The receiving end of one link on one device incarnation: frames of another epoch are stale, a sequence number seen
/// before is a duplicate. Kept outside the actor so it can be tested without one.
/// </summary>
public sealed class LinkInbox(int epoch)
{
    private readonly HashSet<long> _seen = [];

    public int Epoch { get; } = epoch;

    /// <summary>Frames refused as stale so far.</summary>
    public int Stale { get; private set; }

    /// <summary>Frames dropped as duplicates so far.</summary>
    public int Duplicates { get; private set; }

    public FrameVerdict Receive(int epoch, long sequence)
    {
        if (epoch != Epoch)
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
