namespace RingActors.Actors.Protocol;

/// <summary>Supervisor → a node's agent: end the node now; <paramref name="Fault"/> names the fault (crash-node:…@S) for its log.</summary>
public sealed record CrashOrder(string Fault) : IRingMessage;
