using RingActors.Actors.Faults;

namespace RingActors.Actors.Protocol;

/// <summary>
/// Messages of fault experiments between the supervisor and the devices: what a device reports of the faults it saw or
/// suffered, and the partition order the supervisor gives the sending end of a link.
/// </summary>
public static class FaultProtocol
{
    /// <summary>
    /// Device → supervisor: the device is stopping itself at <paramref name="Step"/> (kill-device) at Stopwatch time <paramref name="At"/>
    /// (its own clock), with the wall-clock timeline of the pass it recorded up to then (drawn on its track before its successor's).
    /// </summary>
    public sealed record DeviceKilled(string JobId, int Device, int Step, long At, Math.Modelling.DeviceTimeline? Timeline = null) : IRingMessage;

    /// <summary>Supervisor → device: every chunk is in; report what is still unreported and answer <see cref="FaultsFlushed"/>.</summary>
    public sealed record FlushFaults(string JobId) : IRingMessage;

    /// <summary>Device → supervisor: every fault event of the device's outbound link has been sent before this message.</summary>
    public sealed record FaultsFlushed(string JobId, int Link) : IRingMessage;

    /// <summary>Device → supervisor: a hand-off on the device's outbound link could not be delivered; the job cannot recover.</summary>
    public sealed record LinkFailed(string JobId, int Link, int Step, int Origin, int Attempts, string Reason) : IRingMessage;

    /// <summary>Device → supervisor: a fault happened (and perhaps was detected and recovered from).</summary>
    public sealed record FaultObserved(string JobId, FaultEvent Event) : IRingMessage;

    /// <summary>
    /// Supervisor → the sending device of a link: for <paramref name="Duration"/> the link's sending end
    /// (<paramref name="SenderCut"/>) and/or receiving end (<paramref name="ReceiverCut"/>) is on the node that
    /// <paramref name="Fault"/> (its canonical spelling) cuts off. The device's end of the link applies it.
    /// </summary>
    public sealed record PartitionLink(string JobId, string Fault, bool SenderCut, bool ReceiverCut, TimeSpan Duration) : IRingMessage;
}
