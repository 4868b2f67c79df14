using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;

namespace RingActors.Actors.Serialization;

/// <summary>
/// Reads a frame written by <see cref="FrameWriter"/>. Every length is checked against the bytes that remain and
/// against <see cref="FrameLimits"/> before anything is allocated, so a decode never allocates more than the frame's
/// own size (twice that for strings, which become UTF-16). Anything malformed — truncated, a negative or oversized
/// length, a wrong version, invalid UTF-8, bytes left over — throws a <see cref="SerializationException"/> saying why.
/// </summary>
public ref struct FrameReader
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _frame;
    private readonly FrameLimits _limits;
    private readonly ExtendedActorSystem? _system;
    private int _position;

    /// <summary>Checks the frame's size and its version byte; <paramref name="system"/> is needed only to resolve actor references.</summary>
    public FrameReader(ReadOnlySpan<byte> frame, FrameLimits limits, byte version, ExtendedActorSystem? system = null)
    {
        ArgumentNullException.ThrowIfNull(limits);
        _frame = frame;
        _limits = limits;
        _system = system;
        _position = 0;
        if (frame.Length > limits.MaxFrameBytes)
        {
            Fail($"frame of {frame.Length} bytes exceeds the cap of {limits.MaxFrameBytes} bytes");
        }

        if (frame.IsEmpty)
        {
            Fail("empty frame: the version byte is missing");
        }

        if (frame[0] != version)
        {
            Fail($"unsupported frame version {frame[0]}, expected {version}");
        }

        _position = 1;
    }

    /// <summary>Bytes not read yet.</summary>
    public readonly int Remaining => _frame.Length - _position;

    public byte ReadByte(string field = "byte") => Take(1, field)[0];

    /// <summary>Reads a byte that must be 0 or 1.</summary>
    public bool ReadBoolean(string field = "boolean")
    {
        var value = ReadByte(field);
        if (value > 1)
        {
            Fail($"{field}: boolean byte must be 0 or 1, got {value}");
        }

        return value == 1;
    }

    public int ReadInt32(string field = "int32") => BinaryPrimitives.ReadInt32LittleEndian(Take(sizeof(int), field));

    /// <summary>Reads an int32 that must lie in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int ReadInt32(string field, int min, int max)
    {
        var value = ReadInt32(field);
        if (value < min || value > max)
        {
            Fail($"{field} must be in [{min}, {max}], got {value}");
        }

        return value;
    }

    public long ReadInt64(string field = "int64") => BinaryPrimitives.ReadInt64LittleEndian(Take(sizeof(long), field));

    public float ReadSingle(string field = "float32") => BinaryPrimitives.ReadSingleLittleEndian(Take(sizeof(float), field));

    public double ReadDouble(string field = "float64") => BinaryPrimitives.ReadDoubleLittleEndian(Take(sizeof(double), field));

    /// <summary>Reads a value written by <see cref="FrameWriter.WriteOptionalDouble"/>: a presence byte, then the value.</summary>
    public double? ReadOptionalDouble(string field = "optional float64") => ReadBoolean(field) ? ReadDouble(field) : null;

    /// <summary>Reads a UTF-8 string; its byte count is checked against the remaining frame and the string cap first.</summary>
    public string ReadString(string field = "string")
    {
        var count = ReadLength(field, _limits.MaxStringBytes, "max-string-bytes", 1);
        var bytes = Take(count, field);
        try
        {
            return Utf8.GetString(bytes);
        }
        catch (DecoderFallbackException error)
        {
            throw new SerializationException($"{field}: invalid UTF-8 ({error.Message})", error);
        }
    }

    /// <summary>Reads a float32 array; its element count is checked against the remaining frame and the array cap first.</summary>
    public float[] ReadFloats(string field = "float32[]")
    {
        var count = ReadLength(field, _limits.MaxArrayElements, "max-array-elements", sizeof(float));
        var bytes = Take(count * sizeof(float), field);
        var values = GC.AllocateUninitializedArray<float>(count);
        if (BitConverter.IsLittleEndian)
        {
            bytes.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        }
        else
        {
            for (var i = 0; i < count; i++)
            {
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * sizeof(float))..]);
            }
        }

        return values;
    }

    /// <summary>Reads a float32 array that must hold exactly <paramref name="expected"/> elements (a product of dimensions).</summary>
    public float[] ReadFloats(string field, long expected)
    {
        var count = PeekLength(field);
        if (count != expected)
        {
            Fail($"{field} holds {count} elements, its dimensions give {expected}");
        }

        return ReadFloats(field);
    }

    /// <summary>Reads an int32 array; its element count is checked against the remaining frame and the array cap first.</summary>
    public int[] ReadInts(string field = "int32[]")
    {
        var count = ReadLength(field, _limits.MaxArrayElements, "max-array-elements", sizeof(int));
        var bytes = Take(count * sizeof(int), field);
        var values = GC.AllocateUninitializedArray<int>(count);
        if (BitConverter.IsLittleEndian)
        {
            bytes.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        }
        else
        {
            for (var i = 0; i < count; i++)
            {
                values[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(i * sizeof(int))..]);
            }
        }

        return values;
    }

    /// <summary>Reads an int32 array that must hold exactly <paramref name="expected"/> elements.</summary>
    public int[] ReadInts(string field, long expected)
    {
        var count = PeekLength(field);
        if (count != expected)
        {
            Fail($"{field} holds {count} elements, its dimensions give {expected}");
        }

        return ReadInts(field);
    }

    /// <summary>Reads a byte array; its length is checked against the remaining frame first (the frame cap bounds it).</summary>
    public byte[] ReadBytes(string field = "bytes")
    {
        var count = ReadLength(field, _limits.MaxFrameBytes, "the frame cap", 1);
        return Take(count, field).ToArray();
    }

    /// <summary>Reads an actor reference written by <see cref="FrameWriter.WriteActorRef"/>; the empty path is <see cref="ActorRefs.Nobody"/>.</summary>
    public IActorRef ReadActorRef(string field = "actor")
    {
        var path = ReadString(field);
        if (path.Length == 0)
        {
            return ActorRefs.Nobody;
        }

        if (_system is null)
        {
            throw new InvalidOperationException("this reader was created without an actor system; it cannot resolve actor references");
        }

        bool parsed;
        try
        {
            parsed = ActorPath.TryParse(path, out _);
        }
        catch (FormatException)
        {
            // Akka's parser throws on a malformed uid suffix (#…) instead of returning false.
            parsed = false;
        }

        if (!parsed)
        {
            Fail($"{field}: '{path}' is not an actor path");
        }

        return _system.Provider.ResolveActorRef(path);
    }

    /// <summary>Throws if bytes are left over: a frame is read whole or not at all.</summary>
    public readonly void EnsureEnd()
    {
        if (Remaining != 0)
        {
            Fail($"{Remaining} trailing bytes after the last field");
        }
    }

    /// <summary>Throws a <see cref="SerializationException"/> with <paramref name="reason"/> unless <paramref name="condition"/> holds.</summary>
    public static void Require([DoesNotReturnIf(false)] bool condition, string reason)
    {
        if (!condition)
        {
            Fail(reason);
        }
    }

    [DoesNotReturn]
    public static void Fail(string reason) => throw new SerializationException($"malformed frame: {reason}");

    private int ReadLength(string field, int cap, string capName, int elementBytes)
    {
        var count = ReadInt32(field + " length");
        if (count < 0)
        {
            Fail($"{field}: negative length {count}");
        }

        if (count > cap)
        {
            Fail($"{field}: length {count} exceeds {capName} = {cap}");
        }

        if ((long)count * elementBytes > Remaining)
        {
            Fail($"{field}: truncated, {count} elements of {elementBytes} bytes need {(long)count * elementBytes} bytes, {Remaining} remain");
        }

        return count;
    }

    private readonly int PeekLength(string field)
    {
        if (Remaining < sizeof(int))
        {
            Fail($"{field} length: truncated, needs {sizeof(int)} bytes, {Remaining} remain");
        }

        return BinaryPrimitives.ReadInt32LittleEndian(_frame.Slice(_position, sizeof(int)));
    }

    private ReadOnlySpan<byte> Take(int count, string field)
    {
        if (count > Remaining)
        {
            Fail($"{field}: truncated, needs {count} bytes, {Remaining} remain");
        }

        var span = _frame.Slice(_position, count);
        _position += count;
        return span;
    }
}
