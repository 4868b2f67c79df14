namespace RingActors.Actors.Serialization;

/// <summary>
/// One piece of a payload too large for one remote message. Chunk <see cref="Index"/> of <see cref="Count"/> holds bytes
/// [Index·S, min((Index+1)·S, TotalBytes)) of the payload with S = ⌈TotalBytes / Count⌉, so the layout follows from
/// (TotalBytes, Count) alone and a receiver can check every chunk's length without knowing the sender's chunk size.
/// </summary>
/// <param name="TransferId">Names the payload; unique among the transfers in flight on one link.</param>
public sealed record BlockChunk(long TransferId, int Index, int Count, int TotalBytes, ReadOnlyMemory<byte> Bytes);
