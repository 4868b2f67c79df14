using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace RingActors.Math.IO;

/// <summary>
/// Reads and writes NumPy .npy files (format versions 1.0, 2.0 and 3.0; see numpy.lib.format) holding little-endian
/// float32 or float64 arrays of rank 1 to 4 in C order — what <c>np.save</c> writes for a contiguous tensor — so
/// RingActors can run on tensors users made with NumPy or PyTorch and hand its output back.
/// </summary>
public static class NpyFile
{
    /// <summary>Largest header accepted; numpy's own reader refuses headers over 10 000 bytes by default.</summary>
    public const int MaxHeaderBytes = 65536;

    /// <summary>Largest rank accepted: attention tensors are [B, H, N, d] at most.</summary>
    public const int MaxRank = 4;

    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private const int PreludeBytes = 8;
    private const int Alignment = 64;

    /// <summary>numpy leaves room for this many digits in the first dimension so a header can grow in place.</summary>
    private const int GrowthAxisMaxDigits = 21;

    private const int ChunkBytes = 1 << 20;

    /// <summary>Reads a .npy file as float32 (float64 is rounded to float32) and its shape.</summary>
    /// <exception cref="InvalidDataException">The file is not a .npy file RingActors can read; the message names the file and the reason.</exception>
    public static (float[] Data, int[] Shape) Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        return Read(stream, path);
    }

    /// <summary>Reads a .npy array from <paramref name="stream"/> (to its end); <paramref name="source"/> names it in error messages.</summary>
    /// <exception cref="InvalidDataException">The stream does not hold a .npy array RingActors can read.</exception>
    public static (float[] Data, int[] Shape) Read(Stream stream, string source = "<stream>")
    {
        ArgumentNullException.ThrowIfNull(stream);
        var (header, _) = ReadHeader(stream, source);
        var (elementBytes, shape, count) = Interpret(header, source);
        var dataBytes = count * elementBytes;

        if (stream.CanSeek)
        {
            // Check the length before allocating, so a header that claims a huge array costs nothing.
            var remaining = stream.Length - stream.Position;
            if (remaining < dataBytes)
            {
                throw NpyError.In(source, $"data is truncated: shape {ShowShape(shape)} of {header.Descr} needs {dataBytes} bytes, the file holds {remaining}");
            }

            if (remaining > dataBytes)
            {
                throw NpyError.In(source, $"data length does not match the shape: shape {ShowShape(shape)} of {header.Descr} needs {dataBytes} bytes, the file holds {remaining}");
            }
        }

        var data = ReadData(stream, source, header.Descr, shape, count, elementBytes);
        return (data, shape);
    }

    /// <summary>
    /// Writes <paramref name="data"/> as a version 1.0 '&lt;f4' C-order .npy file with <paramref name="shape"/>, byte for byte
    /// what <c>np.save</c> (numpy ≥ 1.24) writes for the same float32 array.
    /// </summary>
    public static void Write(string path, ReadOnlySpan<float> data, int[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ValidateShape(data.Length, shape);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1);
        Write(stream, data, shape);
    }

    /// <summary>Writes <paramref name="data"/> as a version 1.0 '&lt;f4' C-order .npy array to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, ReadOnlySpan<float> data, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ValidateShape(data.Length, shape);
        stream.Write(Header(shape));
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(data));
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            for (var start = 0; start < data.Length; start += ChunkBytes / sizeof(float))
            {
                var n = System.Math.Min(ChunkBytes / sizeof(float), data.Length - start);
                for (var i = 0; i < n; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(i * sizeof(float)), data[start + i]);
                }

                stream.Write(buffer, 0, n * sizeof(float));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The 1.0 header numpy writes: sorted keys, the shape's repr, room for the first dimension to grow, spaces and '\n' to a multiple of 64 bytes.</summary>
    internal static byte[] Header(int[] shape)
    {
        var dims = shape.Length == 1
            ? $"({shape[0].ToString(CultureInfo.InvariantCulture)},)"
            : $"({string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))})";
        var dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {dims}, }}";
        dict += new string(' ', GrowthAxisMaxDigits - shape[0].ToString(CultureInfo.InvariantCulture).Length);

        // numpy pads even when already aligned (a full 64 spaces then); copy it so the bytes are identical.
        var unpadded = PreludeBytes + sizeof(ushort) + dict.Length + 1;
        var padding = Alignment - (unpadded % Alignment);
        var headerLength = dict.Length + padding + 1;

        var bytes = new byte[PreludeBytes + sizeof(ushort) + headerLength];
        Magic.CopyTo(bytes);
        bytes[6] = 1;
        bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(PreludeBytes), checked((ushort)headerLength));
        var text = bytes.AsSpan(PreludeBytes + sizeof(ushort));
        Encoding.ASCII.GetBytes(dict, text);
        text[dict.Length..^1].Fill((byte)' ');
        text[^1] = (byte)'\n';
        return bytes;
    }

    private static void ValidateShape(int length, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length is < 1 or > MaxRank)
        {
            throw new ArgumentException($"shape must have rank 1 to {MaxRank}, got rank {shape.Length}", nameof(shape));
        }

        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"shape {ShowShape(shape)} has a negative dimension", nameof(shape));
            }

            count *= d;
        }

        if (count != length)
        {
            throw new ArgumentException($"shape {ShowShape(shape)} holds {count} elements, data holds {length}", nameof(shape));
        }
    }

    private static (NpyHeader Header, int Version) ReadHeader(Stream stream, string source)
    {
        Span<byte> prelude = stackalloc byte[PreludeBytes + sizeof(uint)];
        var got = stream.ReadAtLeast(prelude[..PreludeBytes], PreludeBytes, throwOnEndOfStream: false);
        if (got < Magic.Length || !prelude[..Magic.Length].SequenceEqual(Magic))
        {
            throw NpyError.In(source, "not a .npy file: bad magic, expected the bytes \\x93NUMPY at its start");
        }

        if (got < PreludeBytes)
        {
            throw NpyError.In(source, "file ends inside the .npy prelude (magic and version)");
        }

        int major = prelude[6], minor = prelude[7];
        if (major is < 1 or > 3 || minor != 0)
        {
            throw NpyError.In(source, $"unsupported .npy format version {major}.{minor}, expected 1.0, 2.0 or 3.0");
        }

        // Version 1.0 has a 2-byte header length; 2.0 and 3.0 a 4-byte one. 3.0 encodes the header in UTF-8.
        var lengthBytes = major == 1 ? sizeof(ushort) : sizeof(uint);
        var lengthField = prelude.Slice(PreludeBytes, lengthBytes);
        if (stream.ReadAtLeast(lengthField, lengthBytes, throwOnEndOfStream: false) < lengthBytes)
        {
            throw NpyError.In(source, "file ends inside the header length");
        }

        var headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lengthField) : BinaryPrimitives.ReadUInt32LittleEndian(lengthField);
        if (headerLength > MaxHeaderBytes)
        {
            throw NpyError.In(source, $"header length {headerLength} bytes is over the limit of {MaxHeaderBytes}");
        }

        var raw = new byte[headerLength];
        if (stream.ReadAtLeast(raw, raw.Length, throwOnEndOfStream: false) < raw.Length)
        {
            throw NpyError.In(source, $"file ends inside the {headerLength}-byte header");
        }

        string text;
        try
        {
            text = major == 3 ? new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(raw) : Encoding.Latin1.GetString(raw);
        }
        catch (DecoderFallbackException)
        {
            throw NpyError.In(source, "version 3.0 header is not valid UTF-8");
        }

        return (NpyHeader.Parse(text, source), major);
    }

    private static (int ElementBytes, int[] Shape, long Count) Interpret(NpyHeader header, string source)
    {
        var elementBytes = header.Descr switch
        {
            "<f4" => sizeof(float),
            "<f8" => sizeof(double),
            _ => throw NpyError.In(source, $"dtype '{header.Descr}' is not supported: expected little-endian float32 '<f4' or float64 '<f8'"),
        };

        if (header.FortranOrder)
        {
            throw NpyError.In(source, "array is in Fortran order; save a C-order array (np.ascontiguousarray) instead");
        }

        var dims = header.Shape;
        var shown = NpyHeader.Show(dims.Cast<object>().ToArray());
        if (dims.Length is < 1 or > MaxRank)
        {
            throw NpyError.In(source, $"shape {shown} has rank {dims.Length}, expected rank 1 to {MaxRank}");
        }

        var shape = new int[dims.Length];
        long count = 1;
        for (var i = 0; i < dims.Length; i++)
        {
            if (dims[i] < 0)
            {
                throw NpyError.In(source, $"shape {shown} has a negative dimension");
            }

            if (dims[i] > Array.MaxLength)
            {
                throw NpyError.In(source, $"shape {shown} has a dimension over {Array.MaxLength}");
            }

            shape[i] = (int)dims[i];
            // Both factors are ≤ Array.MaxLength < 2^31, so the product cannot overflow a long before the check below.
            count *= dims[i];
            if (count > Array.MaxLength)
            {
                throw NpyError.In(source, $"shape {shown} holds more elements than one array can ({Array.MaxLength})");
            }
        }

        return (elementBytes, shape, count);
    }

    private static float[] ReadData(Stream stream, string source, string descr, int[] shape, long count, int elementBytes)
    {
        // A stream that cannot tell its length gets an array that grows with the data actually read,
        // so a lying header cannot make us allocate more than twice what the stream holds.
        var data = new float[stream.CanSeek ? count : System.Math.Min(count, ChunkBytes)];
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            long done = 0;
            while (done < count)
            {
                var want = (int)System.Math.Min(ChunkBytes / elementBytes, count - done);
                var got = stream.ReadAtLeast(buffer.AsSpan(0, want * elementBytes), want * elementBytes, throwOnEndOfStream: false);
                if (got < want * elementBytes)
                {
                    var held = (done * elementBytes) + got;
                    throw NpyError.In(source, $"data is truncated: shape {ShowShape(shape)} of {descr} needs {count * elementBytes} bytes, the file holds {held}");
                }

                if (done + want > data.Length)
                {
                    Array.Resize(ref data, (int)System.Math.Min(count, System.Math.Max(done + want, 2L * data.Length)));
                }

                Convert(buffer.AsSpan(0, want * elementBytes), data.AsSpan((int)done, want), elementBytes);
                done += want;
            }

            if (!stream.CanSeek && stream.ReadAtLeast(buffer.AsSpan(0, 1), 1, throwOnEndOfStream: false) > 0)
            {
                throw NpyError.In(source, $"data length does not match the shape: shape {ShowShape(shape)} of {descr} needs {count * elementBytes} bytes, the stream holds more");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return data;
    }

    private static void Convert(ReadOnlySpan<byte> bytes, Span<float> into, int elementBytes)
    {
        if (elementBytes == sizeof(float))
        {
            if (BitConverter.IsLittleEndian)
            {
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(into);
                return;
            }

            for (var i = 0; i < into.Length; i++)
            {
                into[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * sizeof(float))..]);
            }

            return;
        }

        for (var i = 0; i < into.Length; i++)
        {
            into[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(i * sizeof(double))..]);
        }
    }

    private static string ShowShape(int[] shape) => NpyHeader.Show(shape.Select(d => (object)(long)d).ToArray());
}
