using RingActors.Actors.Protocol;
using RingActors.Math;
using RingActors.Math.Modelling;

namespace RingActors.Actors;

/// <summary>
/// The outcome of one ring job: the full attention reassembled in the original token order and what each device did.
/// </summary>
/// <param name="Output">Attention output [B, H, N, d] float32, tokens in original order.</param>
/// <param name="Lse">Log-sum-exp of each row [B, H, N]; −∞ for a row that attends nothing.</param>
/// <param name="Devices">Statistics of device 0..P−1.</param>
/// <param name="WallTime">From the job's start at the supervisor (chunks gathered and sent) to the reassembled result.</param>
/// <param name="RingTime">From the ring's start to the last device's result: the part the devices work.</param>
public sealed record RingResult(
    string JobId,
    AttentionShape Shape,
    RingJobSettings Settings,
    float[] Output,
    float[] Lse,
    IReadOnlyList<DeviceStats> Devices,
    TimeSpan WallTime,
    TimeSpan RingTime)
{
    /// <summary>What the injected faults did and what recovering from them cost; null when the job ran without a fault plan.</summary>
    public Faults.FaultReport? Faults { get; init; }

    /// <summary>
    /// The ring's simulated timeline when the job ran in virtual time (<see cref="RingJobSettings.VirtualTime"/>): seconds on the
    /// modelled hardware, the same whatever the host's load; null otherwise.
    /// </summary>
    public RingTimeline? VirtualTimeline { get; init; }

    /// <summary>
    /// The ring's wall-clock timeline: seconds from the ring's start, each device's hand-offs, waits and kernel runs as it
    /// recorded them, on the supervisor's clock (devices on other nodes shifted by <see cref="ClockAlignments"/>); a device
    /// re-created after a kill shows what its lost incarnation recorded up to the kill, then its successor's work.
    /// </summary>
    public RingTimeline? MeasuredTimeline { get; init; }

    /// <summary>How each device incarnation's clock was put on the supervisor's for the measured timelines (see <see cref="MeasuredTimelines"/>).</summary>
    public IReadOnlyList<DeviceClockAlignment> ClockAlignments { get; init; } = [];

    /// <summary>
    /// dQ, dK and dV in the original token order when the job ran the backward pass (<see cref="RingJobSettings.Backward"/>);
    /// null for a forward-only job.
    /// </summary>
    public AttentionGradients? Gradients { get; init; }

    /// <summary>Statistics of device 0..P−1 in the backward pass (FLOPs 10·d per pair); null for a forward-only job.</summary>
    public IReadOnlyList<DeviceStats>? BackwardDevices { get; init; }

    /// <summary>From the backward ring's start (every forward result in) to the last device's gradients; zero for a forward-only job.</summary>
    public TimeSpan BackwardRingTime { get; init; }

    /// <summary>The backward ring's wall-clock timeline, from the backward's start; null for a forward-only job.</summary>
    public RingTimeline? BackwardTimeline { get; init; }

    /// <summary>The node each device ran on (its actor system's address), device by device.</summary>
    public IReadOnlyList<string>? Placement { get; init; }

    /// <summary>Serialized bytes of the job's messages that crossed between nodes (0 in one process).</summary>
    public long NetworkBytes { get; init; }

    /// <summary>
    /// Of <see cref="NetworkBytes"/>: what the supervisor sent to devices on other nodes (chunks, recovery, orders). What the
    /// devices sent is in their statistics (<see cref="DeviceStats.NetworkBytesToSupervisor"/> holds their results too).
    /// </summary>
    public long SupervisorNetworkBytes { get; init; }

    /// <summary>Blocks handed on by all devices: P·(P − 1) for a complete job.</summary>
    public int HandOffs => Devices.Sum(d => d.HandOffsSent);

    public long PairsComputed => Devices.Sum(d => d.PairsComputed);

    public double Flops => Devices.Sum(d => d.Flops);

    /// <summary>The largest peak resident bytes of any device (Q + held K/V blocks + partial).</summary>
    public long PeakResidentBytesPerDevice => Devices.Count == 0 ? 0 : Devices.Max(d => d.PeakResidentBytes);

    /// <summary>
    /// Share of hand-off time hidden behind compute. A hand-off lasts from the moment the sender has the block and wants to send
    /// it (waiting for a credit included) to the moment the receiver accepts it; the hidden part is the time within it during
    /// which the receiver was busy with a block of its own (issued to its compute worker, queued for a compute thread or running).
    /// Overlap = Σ hidden / Σ hand-off time over all hand-offs: 1 means no device ever sat idle waiting for a block on its way;
    /// 1 as well when there were no hand-offs (P = 1). Stopwatch timestamps: valid between devices of one machine.
    /// </summary>
    public double Overlap
    {
        get
        {
            var total = Devices.Sum(d => d.HandOffTime.Ticks);
            return total == 0 ? 1 : (double)Devices.Sum(d => d.HiddenHandOffTime.Ticks) / total;
        }
    }

    /// <summary>Work imbalance: max / mean of the pairs each device computed (≈ 2 for contiguous causal, ≈ 1 for zigzag and striped).</summary>
    public double Imbalance => WorkBalance.Imbalance(Devices.Select(d => d.PairsComputed));
}
