namespace RingActors.Math.Modelling;

/// <summary>When one ring step computes, in simulated seconds.</summary>
public readonly record struct StepWindow(double Start, double End)
{
    public double Duration => End - Start;
}

/// <summary>When one hand-off leaves, when the sender's link is free again, and when the block is resident at the successor.</summary>
public readonly record struct SendWindow(double Start, double LinkFreeAt, double ArrivesAt);

/// <summary>
/// The step rule of the virtual-time ring, as pure functions so the timeline simulator and the device actors (which keep
/// their own simulated clocks) apply exactly the same arithmetic:
/// <list type="bullet">
/// <item>a step starts when the device is free and the block has arrived, and lasts FLOPs / (peak · efficiency);</item>
/// <item>a device forwards a block as soon as it holds it, before computing on it, so the send overlaps the compute;
/// the send also waits for the device's link (one hand-off at a time) and for a credit from the successor, which holds at
/// most two blocks (the one it computes on and the next);</item>
/// <item>a hand-off arrives at send + bytes / bandwidth + latency.</item>
/// </list>
/// </summary>
public static class StepTiming
{
    /// <summary>The compute window of a step: starts at max(device free, block arrived), lasts <paramref name="computeSeconds"/>.</summary>
    public static StepWindow Next(double deviceFreeAt, double blockArrivesAt, double computeSeconds)
    {
        var start = System.Math.Max(deviceFreeAt, blockArrivesAt);
        return new StepWindow(start, start + computeSeconds);
    }

    /// <summary>Simulated seconds to compute <paramref name="flops"/> on <paramref name="profile"/>: FLOPs / (peak · efficiency).</summary>
    public static double ComputeSeconds(double flops, DeviceProfile profile) => flops / profile.EffectiveFlops;

    /// <summary>Seconds a hand-off of <paramref name="bytes"/> occupies the link (bytes / bandwidth), latency excluded: the link pipelines it.</summary>
    public static double SerializationSeconds(long bytes, DeviceProfile profile) => bytes / profile.LinkBandwidth;

    /// <summary>Arrival of a hand-off sent at <paramref name="sentAt"/>: send + bytes / bandwidth + latency.</summary>
    public static double ArrivesAt(double sentAt, long bytes, DeviceProfile profile) =>
        sentAt + SerializationSeconds(bytes, profile) + profile.LinkLatency;

    /// <summary>
    /// The forward of a block: it starts when the block is held, the sender's link has finished its previous hand-off
    /// and the successor has granted a credit (see <see cref="CreditAt"/>).
    /// </summary>
    public static SendWindow Send(double blockHeldAt, double linkFreeAt, double creditAt, long bytes, DeviceProfile profile)
    {
        var start = System.Math.Max(blockHeldAt, System.Math.Max(linkFreeAt, creditAt));
        return new SendWindow(start, start + SerializationSeconds(bytes, profile), ArrivesAt(start, bytes, profile));
    }

    /// <summary>
    /// When a device frees a block buffer: once it has computed on the block and, if it forwards it, the last byte has
    /// left its link (<paramref name="forwardLinkFreeAt"/>; null for the last step, which is not forwarded).
    /// </summary>
    public static double ReleasedAt(double computeEnd, double? forwardLinkFreeAt) =>
        forwardLinkFreeAt is { } sent ? System.Math.Max(computeEnd, sent) : computeEnd;

    /// <summary>
    /// When the predecessor may send the successor the block of its step k: at most two blocks are resident, so the
    /// successor must have released its block of step k − 2, and the credit takes one link latency to travel back. The
    /// first hand-off (step 1) needs none: the successor starts with its own block and one free buffer (pass
    /// <see cref="double.NegativeInfinity"/>).
    /// </summary>
    public static double CreditAt(double successorReleasedAt, DeviceProfile profile) =>
        double.IsNegativeInfinity(successorReleasedAt) ? 0 : successorReleasedAt + profile.LinkLatency;
}
