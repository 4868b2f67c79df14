namespace RingActors.Host.Plots;

/// <summary>A fault to mark on a timeline: when (simulated or measured seconds), on which device, and what happened.</summary>
public sealed record FaultMark(double Time, int Device, string Label);
