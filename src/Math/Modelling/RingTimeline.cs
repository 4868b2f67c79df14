namespace RingActors.Math.Modelling;

/// <summary>What a device is doing during an interval of a timeline.</summary>
public enum IntervalKind
{
    /// <summary>Computing attention of its queries on the block of this step.</summary>
    Compute,

    /// <summary>The block of this step travelling to the device, from the predecessor's send to its arrival.</summary>
    Communicate,

    /// <summary>Free but waiting for the block of this step (or, after its last step, for the ring to finish).</summary>
    Idle,
}

/// <summary>One interval of a device's timeline, in simulated seconds; <paramref name="Step"/> is the ring step it belongs to.</summary>
public readonly record struct TimelineInterval(IntervalKind Kind, double Start, double End, int Step)
{
    public double Duration => End - Start;
}

/// <summary>
/// One device's simulated timeline. <see cref="Intervals"/> is grouped by step (each step's incoming hand-off, the idle
/// wait, the compute), then a final idle until the ring finishes; Communicate intervals overlap the compute lane.
/// Zero-length intervals are left out. Empty when the simulation was run without recording intervals.
/// </summary>
public sealed record DeviceTimeline(
    int Device,
    IReadOnlyList<TimelineInterval> Intervals,
    double ComputeSeconds,
    double IdleSeconds,
    double CommunicationSeconds,
    double HiddenCommunicationSeconds,
    double FinishedAt,
    int HandOffsReceived);

/// <summary>
/// The simulated ring: per-device timelines and totals. <see cref="Overlap"/> is the share of hand-off time hidden behind
/// the receiving device's compute (1 when nothing travels, as on one device).
/// </summary>
public sealed record RingTimeline(
    IReadOnlyList<DeviceTimeline> Devices,
    double TotalSeconds,
    double PerStepSeconds,
    double Overlap,
    long HandOffs,
    double ComputeSeconds,
    double CommunicationSeconds,
    double HiddenCommunicationSeconds);

/// <summary>
/// The work of one ring pass: <see cref="ComputeSeconds"/>[device · Devices + step] is how long the device computes at
/// that step (0 for a skipped block), <see cref="BlockBytes"/>[origin] the bytes of the K/V block that starts on device
/// origin (every hand-off of it carries that many). At step k device r computes on the block of origin (r − k) mod P.
/// </summary>
public sealed record RingWorkload
{
    public RingWorkload(int devices, double[] computeSeconds, long[] blockBytes)
    {
        if (devices <= 0)
        {
            throw new ArgumentException($"devices must be ≥ 1, got {devices}", nameof(devices));
        }

        ArgumentNullException.ThrowIfNull(computeSeconds);
        ArgumentNullException.ThrowIfNull(blockBytes);
        if (computeSeconds.LongLength != (long)devices * devices)
        {
            throw new ArgumentException($"computeSeconds holds {computeSeconds.LongLength} entries, expected devices² = {(long)devices * devices}", nameof(computeSeconds));
        }

        if (blockBytes.Length != devices)
        {
            throw new ArgumentException($"blockBytes holds {blockBytes.Length} entries, expected one per device ({devices})", nameof(blockBytes));
        }

        for (var i = 0; i < computeSeconds.Length; i++)
        {
            if (!double.IsFinite(computeSeconds[i]) || computeSeconds[i] < 0)
            {
                throw new ArgumentException($"computeSeconds[{i}] (device {i / devices}, step {i % devices}) must be finite and ≥ 0, got {computeSeconds[i]}", nameof(computeSeconds));
            }
        }

        for (var i = 0; i < blockBytes.Length; i++)
        {
            if (blockBytes[i] < 0)
            {
                throw new ArgumentException($"blockBytes[{i}] must be ≥ 0, got {blockBytes[i]}", nameof(blockBytes));
            }
        }

        Devices = devices;
        ComputeSeconds = computeSeconds;
        BlockBytes = blockBytes;
    }

    public int Devices { get; }

    public double[] ComputeSeconds { get; }

    public long[] BlockBytes { get; }

    /// <summary>Every step of every device computes for <paramref name="computeSeconds"/>; every block is <paramref name="blockBytes"/>.</summary>
    public static RingWorkload Uniform(int devices, double computeSeconds, long blockBytes)
    {
        if (devices <= 0)
        {
            throw new ArgumentException($"devices must be ≥ 1, got {devices}", nameof(devices));
        }

        var compute = new double[(long)devices * devices];
        Array.Fill(compute, computeSeconds);
        var bytes = new long[devices];
        Array.Fill(bytes, blockBytes);
        return new RingWorkload(devices, compute, bytes);
    }

    /// <summary>The compute seconds of device <paramref name="device"/> at <paramref name="step"/>.</summary>
    public double At(int device, int step) => ComputeSeconds[((long)device * Devices) + step];
}
