using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using RingActors.Actors.Configuration;
using RingActors.Actors.Serialization;

namespace RingActors.Actors.Tests.Serialization;

/// <summary>A block-like message of the tests: a job id, positions, a tensor and a reply address.</summary>
public sealed record SampleBlock(string JobId, int[] Positions, float[] Keys, IActorRef ReplyTo);

/// <summary>
/// How a message is added to a <see cref="FrameSerializer"/>: one Register line with a manifest, a writer, a reader
/// that checks dimensions, and optionally the exact size.
/// </summary>
public sealed class SampleSerializer : FrameSerializer
{
    public SampleSerializer(ExtendedActorSystem system)
        : base(system, version: 1)
    {
        Register<SampleBlock>(
            "SB",
            (writer, block) =>
            {
                writer.WriteString(block.JobId);
                writer.WriteInts(block.Positions);
                writer.WriteFloats(block.Keys);
                writer.WriteActorRef(block.ReplyTo);
            },
            (ref FrameReader reader) =>
            {
                var jobId = reader.ReadString("job id");
                var positions = reader.ReadInts("positions");
                var keys = reader.ReadFloats("keys", positions.Length * 4L);
                return new SampleBlock(jobId, positions, keys, reader.ReadActorRef("reply to"));
            },
            block => FrameWriter.SizeOfString(block.JobId) + FrameWriter.SizeOfArray4(block.Positions.Length)
                + FrameWriter.SizeOfArray4(block.Keys.Length) + FrameWriter.SizeOfActorRef(block.ReplyTo));
    }

    public override int Identifier => 4199;
}

public class RingMessageSerializerSpec() : Akka.TestKit.Xunit2.TestKit(SpecConfig)
{
    private static readonly Config SpecConfig = ConfigurationFactory.ParseString("""
        ring-actors.transport {
          max-message-bytes = 4 KiB
          max-string-bytes = 1 KiB
        }
        akka.actor {
          serialize-messages = on
          serializers.sample = "RingActors.Actors.Tests.Serialization.SampleSerializer, RingActors.Actors.Tests"
          serialization-bindings { "RingActors.Actors.Tests.Serialization.SampleBlock, RingActors.Actors.Tests" = sample }
        }
        """).WithFallback(ClusterDefaults.Config);

    private RingMessageSerializer Serializer => Assert.IsType<RingMessageSerializer>(Sys.Serialization.FindSerializerFor(Chunk()));

    [Fact]
    public void Serialization_must_bind_BlockChunk_to_the_ring_serializer_with_a_short_manifest()
    {
        var serializer = Serializer;
        Assert.Equal(RingMessageSerializer.Id, serializer.Identifier);
        Assert.True(serializer.Identifier > 100);
        Assert.Equal("CH", serializer.Manifest(Chunk()));
        Assert.Equal(RingMessageSerializer.FrameVersion, serializer.ToBinary(Chunk())[0]);
    }

    [Fact]
    public void RingMessageSerializer_must_round_trip_a_chunk_with_its_bytes()
    {
        var chunk = Chunk();
        var bytes = Serializer.ToBinary(chunk);
        var back = Assert.IsType<BlockChunk>(Serializer.FromBinary(bytes, "CH"));

        Assert.Equal((chunk.TransferId, chunk.Index, chunk.Count, chunk.TotalBytes), (back.TransferId, back.Index, back.Count, back.TotalBytes));
        Assert.Equal(chunk.Bytes.ToArray(), back.Bytes.ToArray());
        Assert.Equal(RingMessageSerializer.ChunkFrameOverhead + chunk.Bytes.Length, bytes.Length);
    }

    [Fact]
    public void RingMessageSerializer_must_fill_a_full_chunk_to_exactly_max_message_bytes_and_refuse_one_byte_more()
    {
        var settings = Serializer.Settings;
        var payload = new byte[(settings.ChunkPayloadBytes * 2) - 1];
        var full = BlockChunker.For(settings).Split(1, payload)[0];
        Assert.Equal(settings.MaxMessageBytes, Serializer.ToBinary(full).Length);

        var oversized = new BlockChunk(1, 0, 1, settings.ChunkPayloadBytes + 1, new byte[settings.ChunkPayloadBytes + 1]);
        var error = Assert.Throws<SerializationException>(() => Serializer.ToBinary(oversized));
        Assert.Contains("over ring-actors.transport.max-message-bytes = 4096: split it into chunks", error.Message);
    }

    [Fact]
    public void FrameSerializer_must_refuse_an_unknown_manifest_and_an_unknown_type()
    {
        Assert.Contains("unknown manifest 'XX'", Assert.Throws<SerializationException>(() => Serializer.FromBinary([1], "XX")).Message);
        Assert.Throws<ArgumentException>(() => Serializer.Manifest("not a ring message"));
    }

    [Fact]
    public void A_registered_message_must_round_trip_through_its_serializer_with_its_actor_ref()
    {
        var block = Block(tokens: 31);
        var serializer = Sys.Serialization.FindSerializerFor(block);
        Assert.IsType<SampleSerializer>(serializer);

        var back = Assert.IsType<SampleBlock>(Sys.Serialization.Deserialize(serializer.ToBinary(block), serializer.Identifier, "SB"));
        AssertSame(block, back);
    }

    [Fact]
    public void A_message_over_the_message_cap_must_travel_packed_in_chunks_and_come_back_equal()
    {
        var block = Block(tokens: 257);
        var serializer = Assert.IsType<SampleSerializer>(Sys.Serialization.FindSerializerFor(block));
        Assert.Throws<SerializationException>(() => serializer.ToBinary(block));

        var ring = Serializer;
        var chunks = BlockChunker.For(ring.Settings).Split(42, serializer.Pack(block));
        Assert.True(chunks.Count > 1);
        var assembler = ChunkAssembler.For(ring.Settings);
        var results = chunks.Reverse()
            .Select(chunk => assembler.Accept((BlockChunk)ring.FromBinary(ring.ToBinary(chunk), "CH")))
            .ToList();

        var payload = Assert.Single(results, result => result.Status == ChunkStatus.Completed).Payload!;
        AssertSame(block, Assert.IsType<SampleBlock>(serializer.Unpack(payload)));
    }

    [Fact]
    public void RingMessageSerializer_must_decode_a_chunk_as_a_slice_of_its_frame_without_copying()
    {
        var payload = Enumerable.Range(0, 3000).Select(i => (byte)i).ToArray();
        var frame = Serializer.ToBinary(new BlockChunk(7, 1, 3, 9000, payload));

        var chunk = (BlockChunk)Serializer.FromBinary(frame, "CH");

        Assert.Equal((7L, 1, 3, 9000), (chunk.TransferId, chunk.Index, chunk.Count, chunk.TotalBytes));
        Assert.Equal(payload, chunk.Bytes.ToArray());
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(chunk.Bytes, out var segment));
        Assert.Same(frame, segment.Array);
        Assert.Equal(frame.Length - payload.Length, segment.Offset);
    }

    [Fact]
    public void FrameSerializer_must_turn_any_failure_inside_a_reader_into_a_serialization_exception()
    {
        // A reader may call a constructor or a parser that throws something else; no caller should need a second catch.
        var serializer = new ThrowingReaderSerializer((ExtendedActorSystem)Sys);
        var error = Assert.Throws<SerializationException>(() => serializer.FromBinary([1], "TH"));
        Assert.IsType<InvalidOperationException>(error.InnerException);
        Assert.Contains("the 'TH' reader failed with InvalidOperationException: no such thing", error.Message);

        var packed = Assert.Throws<SerializationException>(() => serializer.Unpack(serializer.Pack(new BlockChunk(0, 0, 1, 0, Array.Empty<byte>()))));
        Assert.IsType<InvalidOperationException>(packed.InnerException);
    }

    [Fact]
    public void FrameSerializer_must_refuse_a_manifest_longer_than_four_letters()
    {
        var error = Assert.Throws<ArgumentException>(() => new LongManifestSerializer((ExtendedActorSystem)Sys));
        Assert.Contains("manifest must be 1–4 ASCII letters, got 'CHUNK'", error.Message);
    }

    private static BlockChunk Chunk() => new(5, 1, 3, 250, Enumerable.Range(0, 84).Select(i => (byte)i).ToArray());

    private SampleBlock Block(int tokens)
    {
        var random = new Random(tokens);
        var keys = new float[tokens * 4];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = (float)random.NextDouble();
        }

        return new SampleBlock("job-ß", Enumerable.Range(100, tokens).ToArray(), keys, TestActor);
    }

    private static void AssertSame(SampleBlock expected, SampleBlock actual)
    {
        Assert.Equal(expected.JobId, actual.JobId);
        Assert.Equal(expected.Positions, actual.Positions);
        Assert.Equal(expected.Keys, actual.Keys);
        Assert.Equal(expected.ReplyTo, actual.ReplyTo);
    }

    private sealed class ThrowingReaderSerializer : FrameSerializer
    {
        public ThrowingReaderSerializer(ExtendedActorSystem system)
            : base(system, version: 1) =>
            Register<BlockChunk>("TH", (_, _) => { }, (ref FrameReader _) => throw new InvalidOperationException("no such thing"));

        public override int Identifier => 4197;
    }

    private sealed class LongManifestSerializer : FrameSerializer
    {
        public LongManifestSerializer(ExtendedActorSystem system)
            : base(system, version: 1) =>
            Register<BlockChunk>("CHUNK", (_, _) => { }, (ref FrameReader _) => new BlockChunk(0, 0, 1, 0, Array.Empty<byte>()));

        public override int Identifier => 4198;
    }
}
