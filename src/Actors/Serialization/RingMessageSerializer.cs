using Akka.Actor;

namespace RingActors.Actors.Serialization;

/// <summary>
/// The binary serializer of the ring's messages (bound in cluster-reference.conf). Each message is one
/// <see cref="FrameSerializer.Register{T}"/> line in the constructor: a manifest of 1–4 letters that never changes,
/// a writer and a reader. Tensors travel as raw little-endian float32.
/// </summary>
public sealed class RingMessageSerializer : FrameSerializer
{
    /// <summary>Serializer identifier (above 100: 0–100 are Akka's own).</summary>
    public const int Id = 4110;

    /// <summary>Layout version of every frame; bump it when a message's layout changes.</summary>
    public const byte FrameVersion = 1;

    /// <summary>Bytes of a <see cref="BlockChunk"/> frame besides its payload: version, id, index, count, total, byte count.</summary>
    public const int ChunkFrameOverhead = 1 + sizeof(long) + sizeof(int) + sizeof(int) + sizeof(int) + FrameWriter.LengthPrefixBytes;

    public RingMessageSerializer(ExtendedActorSystem system)
        : base(system, FrameVersion)
    {
        Register("CH", WriteChunk, ReadChunk, chunk => ChunkFrameOverhead - 1 + chunk.Bytes.Length);
    }

    public override int Identifier => Id;

    private static void WriteChunk(FrameWriter writer, BlockChunk chunk)
    {
        writer.WriteInt64(chunk.TransferId);
        writer.WriteInt32(chunk.Index);
        writer.WriteInt32(chunk.Count);
        writer.WriteInt32(chunk.TotalBytes);
        writer.WriteBytes(chunk.Bytes.Span);
    }

    private static BlockChunk ReadChunk(ref FrameReader reader)
    {
        var transferId = reader.ReadInt64("transfer id");
        var index = reader.ReadInt32("chunk index", 0, int.MaxValue - 1);
        var count = reader.ReadInt32("chunk count", index + 1, int.MaxValue);
        var total = reader.ReadInt32("total bytes", 0, int.MaxValue);
        FrameReader.Require(BlockChunker.IsValidLayout(total, count), $"{count} chunks cannot hold {total} bytes");
        var bytes = reader.ReadBytes("chunk bytes");
        var expected = BlockChunker.Slice(total, count, index).Length;
        FrameReader.Require(bytes.Length == expected, $"chunk {index} holds {bytes.Length} bytes, the layout gives {expected}");
        return new BlockChunk(transferId, index, count, total, bytes);
    }
}
