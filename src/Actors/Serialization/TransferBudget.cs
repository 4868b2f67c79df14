namespace RingActors.Actors.Serialization;

/// <summary>
/// The bytes that the partial transfers of one receiver may hold, shared by the <see cref="ChunkAssembler"/>s of all its
/// links, so that what a receiver holds is bounded however many senders it has (ring-actors.transport.max-inbox-bytes).
/// Not thread-safe: one owner (an actor) uses it.
/// </summary>
public sealed class TransferBudget
{
    public TransferBudget(long maxBytes)
    {
        if (maxBytes <= 0)
        {
            throw new ArgumentException($"a transfer budget must be ≥ 1 byte, got {maxBytes}", nameof(maxBytes));
        }

        MaxBytes = maxBytes;
    }

    public long MaxBytes { get; }

    /// <summary>Bytes taken and not yet released.</summary>
    public long HeldBytes { get; private set; }

    /// <summary>Takes <paramref name="bytes"/> if they fit; false (and nothing taken) if they do not.</summary>
    public bool TryTake(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes > MaxBytes - HeldBytes)
        {
            return false;
        }

        HeldBytes += bytes;
        return true;
    }

    /// <summary>Gives back bytes taken before.</summary>
    public void Release(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes > HeldBytes)
        {
            throw new InvalidOperationException($"releasing {bytes} bytes of a budget that holds {HeldBytes}");
        }

        HeldBytes -= bytes;
    }
}
