using Akka.Actor;
using RingActors.Actors.Faults;
using static RingActors.Actors.Faults.FaultProtocol;

namespace RingActors.Actors;

/// <summary>The device's end of an acknowledged link (jobs under a fault plan): acknowledge, drop repeats, refuse stale epochs.</summary>
public sealed partial class DeviceActor
{
    private LinkInbox? _inbox;

    private void OnFrame(LinkFrame frame)
    {
        _inbox ??= new LinkInbox(_setup.Epoch);
        var verdict = _inbox.Receive(frame.Epoch, frame.Sequence);
        if (verdict == FrameVerdict.Stale)
        {
            Sender.Tell(new LinkRefused(frame.JobId, frame.Link, frame.Epoch, frame.Sequence, $"stale: epoch {frame.Epoch}, device {_setup.Device} is at epoch {_setup.Epoch}"));
            return;
        }

        // Acknowledge first: the link stops retransmitting whatever the block's admission says.
        Sender.Tell(new LinkAck(frame.JobId, frame.Link, frame.Epoch, frame.Sequence, verdict == FrameVerdict.Duplicate));
        if (verdict == FrameVerdict.New)
        {
            OnBlock(frame.Block);
        }
    }
}
