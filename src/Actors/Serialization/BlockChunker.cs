namespace RingActors.Actors.Serialization;

/// <summary>
/// Splits a payload into <see cref="BlockChunk"/>s of at most <see cref="MaxChunkBytes"/> bytes each, without copying:
/// every chunk is a slice of the payload. <see cref="ChunkAssembler"/> puts them back together.
/// </summary>
public sealed class BlockChunker
{
    public BlockChunker(int maxChunkBytes)
    {
        if (maxChunkBytes <= 0)
        {
            throw new ArgumentException($"chunk size must be ≥ 1 byte, got {maxChunkBytes}", nameof(maxChunkBytes));
        }

        MaxChunkBytes = maxChunkBytes;
    }

    /// <summary>The chunk size that keeps every chunk's frame within <see cref="TransportSettings.MaxMessageBytes"/>.</summary>
    public static BlockChunker For(TransportSettings settings) => new(settings.ChunkPayloadBytes);

    public int MaxChunkBytes { get; }

    /// <summary>Chunks a payload of <paramref name="totalBytes"/> needs: ⌈total / max⌉, and one for an empty payload.</summary>
    public int ChunkCount(int totalBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalBytes);
        return totalBytes == 0 ? 1 : (int)(((long)totalBytes + MaxChunkBytes - 1) / MaxChunkBytes);
    }

    /// <summary>
    /// The chunks of <paramref name="payload"/>, in order. With C = ⌈T/max⌉ chunks the stride S = ⌈T/C⌉ ≤ max and
    /// (C−1)·S ≤ (C−1)·max &lt; T, so no chunk is empty and none exceeds the maximum.
    /// </summary>
    public IReadOnlyList<BlockChunk> Split(long transferId, ReadOnlyMemory<byte> payload)
    {
        var total = payload.Length;
        var count = ChunkCount(total);
        var chunks = new BlockChunk[count];
        for (var index = 0; index < count; index++)
        {
            var (offset, length) = Slice(total, count, index);
            chunks[index] = new BlockChunk(transferId, index, count, total, payload.Slice(offset, length));
        }

        return chunks;
    }

    /// <summary>Offset and length of chunk <paramref name="index"/> in a payload of <paramref name="totalBytes"/> cut into <paramref name="count"/> chunks.</summary>
    public static (int Offset, int Length) Slice(int totalBytes, int count, int index)
    {
        var stride = Stride(totalBytes, count);
        var offset = (long)index * stride;
        var length = System.Math.Clamp(totalBytes - offset, 0, stride);
        return ((int)System.Math.Min(offset, totalBytes), (int)length);
    }

    /// <summary>True when (<paramref name="totalBytes"/>, <paramref name="count"/>) describes a layout with no empty chunk.</summary>
    public static bool IsValidLayout(int totalBytes, int count) =>
        totalBytes >= 0 && count >= 1 && (totalBytes == 0 ? count == 1 : count <= totalBytes && (long)(count - 1) * Stride(totalBytes, count) < totalBytes);

    private static int Stride(int totalBytes, int count) => (int)(((long)totalBytes + count - 1) / count);
}
