using Akka.Actor;

namespace RingActors.Actors.Serialization;

/// <summary>
/// Sends ring messages to actors that may live on another node. A message for a local actor is told as it is; one for a
/// remote actor whose frame exceeds <c>ring-actors.transport.max-message-bytes</c> is packed and split into
/// <see cref="BlockChunk"/>s (each within the cap), which the receiver gives to its <see cref="WireInbox"/>. Returns the
/// serialized bytes that cross the network (0 for a local receiver), so devices can count them.
/// </summary>
public static class RingWire
{
    private static long _transfers;

    /// <summary>True when <paramref name="target"/> lives in another actor system (its path carries a host).</summary>
    public static bool IsRemote(IActorRef target) => target.Path.Address.HasGlobalScope;

    /// <summary>Tells <paramref name="message"/> to <paramref name="target"/>, in chunks when it is remote and too large; the network bytes.</summary>
    public static long Tell(ActorSystem system, IActorRef target, object message, IActorRef sender)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(target);
        if (!IsRemote(target) || system.Serialization.FindSerializerFor(message) is not RingMessageSerializer serializer)
        {
            target.Tell(message, sender);
            return 0;
        }

        var size = serializer.FrameSize(message);
        if (size <= serializer.Settings.MaxMessageBytes)
        {
            target.Tell(message, sender);
            return size;
        }

        // Ids only need to be unique on one link (the receiver keeps one assembler per sender): a process-wide counter is.
        var transferId = Interlocked.Increment(ref _transfers);
        var chunks = BlockChunker.For(serializer.Settings).Split(transferId, serializer.Pack(message));
        long bytes = 0;
        foreach (var chunk in chunks)
        {
            target.Tell(chunk, sender);
            bytes += RingMessageSerializer.ChunkFrameOverhead + chunk.Bytes.Length;
        }

        return bytes;
    }
}
