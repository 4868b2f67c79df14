namespace RingActors.Host.Plots;

/// <summary>A fault to mark on a timeline: when (simulated or measured seconds), on which device, and what happened.</summary>
public sealed record FaultMark(double Time, int Device, string Label)
{
    /// <summary>When the ring had recovered from it (seconds on the same clock); null when not known or nothing was recovered.</summary>
    public double? RecoveredAt { get; init; }

    /// <summary>
    /// For a fault in effect over a span rather than at an instant (a slow device: every compute stretched), the end of that span;
    /// the span runs from <see cref="Time"/> on <see cref="Device"/>'s track. Null for an instant fault.
    /// </summary>
    public double? SlowedUntil { get; init; }
}
