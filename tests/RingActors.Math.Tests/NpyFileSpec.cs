using System.Buffers.Binary;
using System.Text;
using RingActors.Math.IO;

namespace RingActors.Math.Tests;

public class NpyFileSpec
{
    // np.save(f, np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32)) with numpy ≥ 1.24, written out by hand from the
    // NPY 1.0 spec: magic, version 1.0, header length 118 (0x76), the dict, 20 spaces of growth room for the first
    // dimension, padding to 128 bytes, '\n', then six little-endian float32s.
    private static readonly byte[] Golden =
    [
        0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 0x01, 0x00, 0x76, 0x00,
        .. "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"u8,
        .. "                    "u8, // GROWTH_AXIS_MAX_DIGITS (21) − len("2")
        .. "                                      "u8, // 38 spaces: 10 + 79 + 38 + 1 = 128
        (byte)'\n',
        0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40,
        0x00, 0x00, 0x80, 0x40, 0x00, 0x00, 0xa0, 0x40, 0x00, 0x00, 0xc0, 0x40,
    ];

    [Fact]
    public void Write_must_produce_the_bytes_numpy_writes()
    {
        Assert.Equal(128 + 24, Golden.Length);
        using var stream = new MemoryStream();
        NpyFile.Write(stream, [1f, 2f, 3f, 4f, 5f, 6f], [2, 3]);
        Assert.Equal(Golden, stream.ToArray());
    }

    [Fact]
    public void Read_must_read_the_bytes_numpy_writes()
    {
        var (data, shape) = NpyFile.Read(new MemoryStream(Golden));
        Assert.Equal([2, 3], shape);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], data);
    }

    public static TheoryData<int[]> RoundTripShapes => new()
    {
        new[] { 3, 5 },
        new[] { 2, 3, 7, 5 },
        new[] { 31 },
        new[] { 1, 4, 257, 3 },
        new[] { 0, 4 },
    };

    [Theory]
    [MemberData(nameof(RoundTripShapes))]
    public void Write_then_Read_must_round_trip_through_a_file(int[] shape)
    {
        var count = shape.Aggregate(1, (a, b) => a * b);
        var random = new Random(count + shape.Length);
        var expected = new float[count];
        for (var i = 0; i < count; i++)
        {
            expected[i] = (float)((random.NextDouble() * 2) - 1) * 1e3f;
        }

        var path = Path.Combine(Path.GetTempPath(), $"ringactors-npy-{Guid.NewGuid():N}.npy");
        try
        {
            NpyFile.Write(path, expected, shape);
            var bytes = File.ReadAllBytes(path);
            var headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
            Assert.Equal(0, (10 + headerLength) % 64);
            Assert.Equal((byte)'\n', bytes[10 + headerLength - 1]);
            Assert.Equal(10 + headerLength + (count * 4), bytes.Length);

            var (data, readShape) = NpyFile.Read(path);
            Assert.Equal(shape, readShape);
            Assert.Equal(expected, data);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(new[] { 7 })]
    [InlineData(new[] { 2_000_000_000 })]
    [InlineData(new[] { 1, 2, 3, 4 })]
    [InlineData(new[] { 123456, 1, 1, 1 })]
    [InlineData(new[] { 1000, 1000 })]
    public void Header_must_be_padded_to_64_bytes_and_end_in_a_newline(int[] shape)
    {
        var header = NpyFile.Header(shape);
        Assert.Equal(0, header.Length % 64);
        Assert.Equal((byte)'\n', header[^1]);
        Assert.Equal(header.Length - 10, BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(8)));
        var text = Encoding.ASCII.GetString(header, 10, header.Length - 10);
        Assert.StartsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_must_convert_float64_to_float32()
    {
        double[] values = [1.5, -2.25, 1e-3, 1e30, double.MaxValue];
        var data = new byte[values.Length * 8];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(i * 8), values[i]);
        }

        var (read, shape) = NpyFile.Read(new MemoryStream(Npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }", data)));
        Assert.Equal([5], shape);
        Assert.Equal([1.5f, -2.25f, 1e-3f, 1e30f, float.PositiveInfinity], read);
    }

    [Theory]
    [InlineData(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }")]
    [InlineData(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }")]
    [InlineData(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }")]
    [InlineData(1, "{\"shape\": (2L, 1L), \"fortran_order\": False, \"descr\": \"<f4\"}")]
    [InlineData(1, "{'descr':'<f4','fortran_order':False,'shape':(2,1)}")]
    [InlineData(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }\t  ")]
    public void Read_must_accept_every_version_and_the_header_spellings_numpy_accepts(byte major, string header)
    {
        var bytes = Npy(major, header, [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]);
        var (data, shape) = NpyFile.Read(new MemoryStream(bytes));
        Assert.Equal([2, 1], shape);
        Assert.Equal([1f, -2f], data);
    }

    [Fact]
    public void Read_must_accept_a_utf8_version_3_header()
    {
        var bytes = Npy(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", [0x00, 0x00, 0x80, 0x3f]);
        Assert.Equal([1f], NpyFile.Read(new MemoryStream(bytes)).Data);

        var invalid = Npy(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", [0x00, 0x00, 0x80, 0x3f]);
        invalid[20] = 0xff; // not UTF-8
        var error = Assert.Throws<InvalidDataException>(() => NpyFile.Read(new MemoryStream(invalid), "v3.npy"));
        Assert.Equal("v3.npy: version 3.0 header is not valid UTF-8", error.Message);
    }

    private const string Good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";

    private static readonly byte[] TwoFloats = [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40];

    public static TheoryData<string, byte[], string> Malformed => new()
    {
        { "empty file", [], "bad magic" },
        { "bad magic", [0x93, .. "NUMPX"u8, 1, 0, 0, 0], "bad magic" },
        { "text file", "hello, world"u8.ToArray(), "bad magic" },
        { "cut in prelude", [0x93, .. "NUMPY"u8, 1], "ends inside the .npy prelude" },
        { "version 4.0", Npy(4, Good, TwoFloats), "unsupported .npy format version 4.0" },
        { "version 1.1", Npy(1, Good, TwoFloats, minor: 1), "unsupported .npy format version 1.1" },
        { "cut in header length", [0x93, .. "NUMPY"u8, 2, 0, 0x10], "ends inside the header length" },
        { "cut in header", [0x93, .. "NUMPY"u8, 1, 0, 0x40, 0, .. "{'descr'"u8], "ends inside the 64-byte header" },
        { "huge header", [0x93, .. "NUMPY"u8, 2, 0, 0xff, 0xff, 0xff, 0x7f], "over the limit" },
        { "list header", Npy(1, "[1, 2]", TwoFloats), "header is not a dict literal" },
        { "empty header", Npy(1, "", TwoFloats), "header is not a dict literal" },
        { "unclosed dict", Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", TwoFloats), "ends inside its dict" },
        { "code in header", Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': eval('2')}", TwoFloats), "'eval'" },
        { "text after dict", Npy(1, Good + " {}", TwoFloats), "text after its dict" },
        { "missing shape", Npy(1, "{'descr': '<f4', 'fortran_order': False}", TwoFloats), "lacks the key(s) 'shape'" },
        { "missing descr", Npy(1, "{'fortran_order': False, 'shape': (2,)}", TwoFloats), "lacks the key(s) 'descr'" },
        { "extra key", Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", TwoFloats), "unexpected key(s) 'x'" },
        { "repeated key", Npy(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", TwoFloats), "repeats the key 'descr'" },
        { "big endian", Npy(1, Good.Replace("<f4", ">f4", StringComparison.Ordinal), TwoFloats), "dtype '>f4' is not supported" },
        { "no byte order", Npy(1, Good.Replace("<f4", "|f4", StringComparison.Ordinal), TwoFloats), "dtype '|f4' is not supported" },
        { "int32", Npy(1, Good.Replace("<f4", "<i4", StringComparison.Ordinal), TwoFloats), "dtype '<i4' is not supported" },
        { "float16", Npy(1, Good.Replace("<f4", "<f2", StringComparison.Ordinal), [0, 0, 0, 0]), "dtype '<f2' is not supported" },
        { "structured", Npy(1, "{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (2,)}", TwoFloats), "structured dtypes are not" },
        { "fortran order", Npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,)}", TwoFloats), "Fortran order" },
        { "fortran order not bool", Npy(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", TwoFloats), "'fortran_order' is 0" },
        { "shape not tuple", Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': 2}", TwoFloats), "'shape' is 2" },
        { "shape of strings", Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': ('2',)}", TwoFloats), "expected a tuple of integers" },
        { "rank 0", Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': ()}", [0, 0, 0x80, 0x3f]), "rank 0" },
        { "rank 5", Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 2)}", TwoFloats), "rank 5" },
        { "negative dim", Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1)}", TwoFloats), "shape (2, -1) has a negative dimension" },
        { "dim over int", Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,)}", TwoFloats), "has a dimension over" },
        { "dim over long", Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", TwoFloats), "does not fit 64 bits" },
        { "product overflows", Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2147483591, 2147483591, 2147483591, 2147483591)}", TwoFloats), "more elements than one array can" },
        { "truncated", Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", TwoFloats), "data is truncated: shape (3,) of <f4 needs 12 bytes, the file holds 8" },
        { "truncated f8", Npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}", TwoFloats), "needs 16 bytes, the file holds 8" },
        { "extra data", Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", TwoFloats), "data length does not match the shape: shape (1,) of <f4 needs 4 bytes, the file holds 8" },
        { "64 KiB of '('", Npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': " + new string('(', 65000), TwoFloats), "header nests tuples or lists deeper than 32 levels" },
        { "lists and tuples 33 deep", Npy(1, "{'descr': " + string.Concat(Enumerable.Repeat("[(", 17)) + "}", TwoFloats), "deeper than 32 levels" },
        { "a lone minus", Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-,)}", TwoFloats), "header holds a '-' without digits" },
    };

    [Fact]
    public void Read_must_parse_32_levels_and_keep_a_long_shape_out_of_its_one_line()
    {
        // 32 levels are parsed (the error is about the value, not the depth): numpy's deepest header nests 3.
        var nested = Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': " + new string('(', 32) + new string(')', 32) + "}", TwoFloats);
        var error = Assert.Throws<InvalidDataException>(() => NpyFile.Read(new MemoryStream(nested), "q.npy"));
        Assert.Contains("'shape' is (((", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("deeper", error.Message, StringComparison.Ordinal);

        // A rank-20000 shape is named by its first items and its length, not printed whole.
        var wide = Npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (" + string.Concat(Enumerable.Repeat("1, ", 20000)) + ")}", TwoFloats);
        error = Assert.Throws<InvalidDataException>(() => NpyFile.Read(new MemoryStream(wide), "q.npy"));
        Assert.Equal("q.npy: shape (1, 1, 1, 1, 1, 1, 1, 1, … 20000 items) has rank 20000, expected rank 1 to 4", error.Message);
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Read_must_reject_malformed_input_with_a_one_line_message_naming_the_file(string name, byte[] bytes, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => NpyFile.Read(new MemoryStream(bytes), "q.npy"));
        Assert.StartsWith("q.npy: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.False(string.IsNullOrEmpty(name));
    }

    [Fact]
    public void Read_must_detect_truncated_and_extra_data_on_a_stream_that_cannot_seek()
    {
        var truncated = Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", TwoFloats);
        var error = Assert.Throws<InvalidDataException>(() => NpyFile.Read(new ForwardOnlyStream(truncated), "pipe"));
        Assert.Equal("pipe: data is truncated: shape (3,) of <f4 needs 12 bytes, the file holds 8", error.Message);

        var extra = Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", TwoFloats);
        error = Assert.Throws<InvalidDataException>(() => NpyFile.Read(new ForwardOnlyStream(extra), "pipe"));
        Assert.Contains("data length does not match the shape", error.Message, StringComparison.Ordinal);

        // A header claiming 2^30 floats over a pipe holding 8 bytes fails on the data, not on an allocation.
        var lying = Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1073741824,)}", TwoFloats);
        error = Assert.Throws<InvalidDataException>(() => NpyFile.Read(new ForwardOnlyStream(lying), "pipe"));
        Assert.Contains("data is truncated", error.Message, StringComparison.Ordinal);

        var (data, shape) = NpyFile.Read(new ForwardOnlyStream(Golden));
        Assert.Equal([2, 3], shape);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], data);
    }

    [Fact]
    public void Read_must_name_the_path_of_a_malformed_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ringactors-npy-{Guid.NewGuid():N}.npy");
        try
        {
            File.WriteAllBytes(path, "not numpy"u8.ToArray());
            var error = Assert.Throws<InvalidDataException>(() => NpyFile.Read(path));
            Assert.StartsWith($"{path}: not a .npy file: bad magic", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(new int[0], 0, "rank 0")]
    [InlineData(new[] { 1, 1, 1, 1, 1 }, 1, "rank 5")]
    [InlineData(new[] { 2, 3 }, 5, "holds 6 elements, data holds 5")]
    [InlineData(new[] { -2, -3 }, 6, "negative dimension")]
    public void Write_must_reject_a_shape_that_does_not_fit_the_data(int[] shape, int length, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => NpyFile.Write(new MemoryStream(), new float[length], shape));
        Assert.Equal("shape", error.ParamName);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    /// <summary>An .npy file built by hand per the spec: magic, version, little-endian header length, header, data (no alignment needed to read).</summary>
    private static byte[] Npy(byte major, string header, byte[] data, byte minor = 0)
    {
        var text = Encoding.UTF8.GetBytes(header + "\n");
        var lengthBytes = major == 1 ? 2 : 4;
        var bytes = new byte[8 + lengthBytes + text.Length + data.Length];
        bytes[0] = 0x93;
        "NUMPY"u8.CopyTo(bytes.AsSpan(1));
        bytes[6] = major;
        bytes[7] = minor;
        if (lengthBytes == 2)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)text.Length);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)text.Length);
        }

        text.CopyTo(bytes, 8 + lengthBytes);
        data.CopyTo(bytes, 8 + lengthBytes + text.Length);
        return bytes;
    }

    private sealed class ForwardOnlyStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            _inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
