using System.Runtime.Serialization;
using RingActors.Actors.Serialization;

namespace RingActors.Actors.Tests.Serialization;

public class FrameReaderSpec
{
    private const byte Version = 3;

    private static readonly FrameLimits Limits = new(MaxFrameBytes: 4096, MaxArrayElements: 256, MaxStringBytes: 64);

    [Fact]
    public void FrameWriter_must_round_trip_every_field_type_through_FrameReader()
    {
        var floats = new[] { 1.5f, -0f, float.NaN, float.PositiveInfinity, float.Epsilon, 3.25e-20f, -7f };
        var ints = new[] { 0, -1, int.MaxValue, int.MinValue, 31, 257 };
        var writer = new FrameWriter(Version, capacity: 8);
        writer.WriteByte(200);
        writer.WriteBoolean(true);
        writer.WriteInt32(-123456789);
        writer.WriteInt64(long.MinValue + 7);
        writer.WriteSingle(-2.5f);
        writer.WriteDouble(System.Math.PI);
        writer.WriteString("job-ß-∑-😀");
        writer.WriteString(string.Empty);
        writer.WriteFloats(floats);
        writer.WriteInts(ints);
        writer.WriteBytes([9, 8, 7]);
        writer.WriteFloats([]);
        writer.WriteOptionalDouble(null);
        writer.WriteOptionalDouble(-0.125);
        var frame = writer.ToArray();

        var reader = new FrameReader(frame, Limits, Version);
        Assert.Equal(200, reader.ReadByte());
        Assert.True(reader.ReadBoolean());
        Assert.Equal(-123456789, reader.ReadInt32());
        Assert.Equal(long.MinValue + 7, reader.ReadInt64());
        Assert.Equal(-2.5f, reader.ReadSingle());
        Assert.Equal(System.Math.PI, reader.ReadDouble());
        Assert.Equal("job-ß-∑-😀", reader.ReadString());
        Assert.Equal(string.Empty, reader.ReadString());
        Assert.Equal(floats.Select(BitConverter.SingleToInt32Bits), reader.ReadFloats().Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(ints, reader.ReadInts());
        Assert.Equal(new byte[] { 9, 8, 7 }, reader.ReadBytes());
        Assert.Empty(reader.ReadFloats());
        Assert.Null(reader.ReadOptionalDouble());
        Assert.Equal(-0.125, reader.ReadOptionalDouble());
        reader.EnsureEnd();
    }

    [Fact]
    public void FrameWriter_must_write_little_endian_numbers_and_raw_float32_arrays()
    {
        var writer = new FrameWriter(Version);
        writer.WriteInt32(0x01020304);
        writer.WriteFloats([1f]);
        Assert.Equal(new byte[] { Version, 4, 3, 2, 1, 1, 0, 0, 0, 0, 0, 0x80, 0x3F }, writer.ToArray());
    }

    [Fact]
    public void FrameWriter_must_return_its_buffer_without_copying_when_the_capacity_was_exact()
    {
        var writer = new FrameWriter(Version, capacity: 1 + (int)FrameWriter.SizeOfArray4(3));
        writer.WriteFloats([1f, 2f, 3f]);
        Assert.Same(writer.ToArray(), writer.ToArray());
    }

    public static TheoryData<string, string, byte[]> MalformedFrames()
    {
        static byte[] Frame(Action<FrameWriter> write)
        {
            var writer = new FrameWriter(Version);
            write(writer);
            return writer.ToArray();
        }

        return new TheoryData<string, string, byte[]>
        {
            { "empty frame", "ints", [] },
            { "unsupported frame version 4, expected 3", "ints", [4, 0, 0, 0, 0] },
            { "truncated, needs 4 bytes, 2 remain", "ints", [Version, 1, 2] },
            { "negative length -1", "ints", Frame(w => w.WriteInt32(-1)) },
            { "length 257 exceeds max-array-elements = 256", "floats", Frame(w => w.WriteInt32(257)) },
            { "truncated, 5 elements of 4 bytes need 20 bytes, 16 remain", "ints", Frame(w => { w.WriteInt32(5); w.WriteInt64(1); w.WriteInt64(2); }) },
            { "length 65 exceeds max-string-bytes = 64", "string", Frame(w => w.WriteString(new string('x', 65))) },
            { "invalid UTF-8", "string", Frame(w => w.WriteBytes([0xC3, 0x28])) },
            { "2 trailing bytes after the last field", "floats", Frame(w => { w.WriteFloats([1f, 2f]); w.WriteByte(0); w.WriteByte(0); }) },
            { "boolean byte must be 0 or 1, got 2", "boolean", Frame(w => w.WriteByte(2)) },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedFrames))]
    public void FrameReader_must_refuse_malformed_frames_with_a_reason(string reason, string field, byte[] frame)
    {
        var error = Assert.Throws<SerializationException>(() =>
        {
            var reader = new FrameReader(frame, Limits, Version);
            _ = field switch
            {
                "ints" => reader.ReadInts().Length,
                "floats" => reader.ReadFloats().Length,
                "string" => reader.ReadString().Length,
                _ => reader.ReadBoolean() ? 1 : 0,
            };
            reader.EnsureEnd();
        });
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void FrameReader_must_refuse_a_frame_over_the_cap_before_reading_it()
    {
        var error = Assert.Throws<SerializationException>(() => new FrameReader(new byte[4097], Limits, Version));
        Assert.Contains("frame of 4097 bytes exceeds the cap of 4096 bytes", error.Message);
    }

    [Fact]
    public void FrameReader_must_check_an_array_against_the_dimensions_it_should_have()
    {
        var writer = new FrameWriter(Version);
        writer.WriteFloats(new float[12]);
        var error = Assert.Throws<SerializationException>(() =>
        {
            var reader = new FrameReader(writer.ToArray(), Limits, Version);
            reader.ReadFloats("keys", expected: 2 * 3 * 4 + 1);
        });
        Assert.Contains("keys holds 12 elements, its dimensions give 25", error.Message);
    }

    [Fact]
    public void FrameReader_must_refuse_an_int_outside_its_range()
    {
        var writer = new FrameWriter(Version);
        writer.WriteInt32(9);
        var error = Assert.Throws<SerializationException>(() =>
        {
            var reader = new FrameReader(writer.ToArray(), Limits, Version);
            reader.ReadInt32("step", 0, 8);
        });
        Assert.Contains("step must be in [0, 8], got 9", error.Message);
    }
}
