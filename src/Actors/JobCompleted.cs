using Akka.Actor;
using RingActors.Actors.Protocol;

namespace RingActors.Actors;

/// <summary>
/// Supervisor → caller: the job finished. A local reply only (the result holds the reassembled tensors and statistics), so it
/// lives beside the supervisor and the result, above the protocol that travels.
/// </summary>
public sealed record JobCompleted(RingResult Result) : IRingMessage, INoSerializationVerificationNeeded;
