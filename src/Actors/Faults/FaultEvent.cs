namespace RingActors.Actors.Faults;

/// <summary>
/// One injected fault as observed: Stopwatch timestamps of injection, detection and recovery (0 when not applicable),
/// how it was recovered, what it cost in retransmissions and extra bytes.
/// </summary>
public sealed record FaultEvent(
    string Fault,
    string Where,
    long InjectedAt,
    long DetectedAt,
    long RecoveredAt,
    string Recovery,
    int Retransmissions,
    long ExtraBytes);
