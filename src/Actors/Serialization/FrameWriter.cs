using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Akka.Actor;

namespace RingActors.Actors.Serialization;

/// <summary>
/// Writes one binary frame: a version byte, then little-endian numbers, strings as a byte count and UTF-8,
/// and arrays as an element count and their raw little-endian elements. <see cref="FrameReader"/> reads it back.
/// </summary>
public sealed class FrameWriter
{
    /// <summary>Bytes of a length prefix (int32).</summary>
    public const int LengthPrefixBytes = sizeof(int);

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private byte[] _buffer;
    private int _length;

    /// <summary>Starts a frame with its version byte. A <paramref name="capacity"/> equal to the final size avoids every copy.</summary>
    public FrameWriter(byte version, int capacity = 256)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _buffer = new byte[capacity];
        _buffer[0] = version;
        _length = 1;
    }

    /// <summary>Bytes written so far, the version byte included.</summary>
    public int Length => _length;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    /// <summary>Frame size of a string written by <see cref="WriteString"/>.</summary>
    public static int SizeOfString(string value) => LengthPrefixBytes + Utf8.GetByteCount(value);

    /// <summary>Frame size of an array of <paramref name="elements"/> 4-byte elements (float or int).</summary>
    public static long SizeOfArray4(int elements) => LengthPrefixBytes + (4L * elements);

    /// <summary>Frame size of an actor reference written by <see cref="WriteActorRef"/>.</summary>
    public static int SizeOfActorRef(IActorRef? actor) => SizeOfString(ActorRefPath(actor));

    public void WriteByte(byte value) => Reserve(1)[0] = value;

    public void WriteBoolean(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void WriteInt32(int value) => BinaryPrimitives.WriteInt32LittleEndian(Reserve(sizeof(int)), value);

    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Reserve(sizeof(long)), value);

    public void WriteSingle(float value) => BinaryPrimitives.WriteSingleLittleEndian(Reserve(sizeof(float)), value);

    public void WriteDouble(double value) => BinaryPrimitives.WriteDoubleLittleEndian(Reserve(sizeof(double)), value);

    /// <summary>Writes a presence byte (0 or 1), then the value when present.</summary>
    public void WriteOptionalDouble(double? value)
    {
        WriteBoolean(value.HasValue);
        if (value is { } present)
        {
            WriteDouble(present);
        }
    }

    /// <summary>Writes the UTF-8 byte count, then the bytes.</summary>
    public void WriteString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var count = Utf8.GetByteCount(value);
        WriteInt32(count);
        Utf8.GetBytes(value, Reserve(count));
    }

    /// <summary>Writes the element count, then the floats as raw little-endian float32.</summary>
    public void WriteFloats(ReadOnlySpan<float> values)
    {
        WriteInt32(values.Length);
        var destination = Reserve(checked(values.Length * sizeof(float)));
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(values).CopyTo(destination);
            return;
        }

        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(destination[(i * sizeof(float))..], values[i]);
        }
    }

    /// <summary>Writes the element count, then the ints as raw little-endian int32.</summary>
    public void WriteInts(ReadOnlySpan<int> values)
    {
        WriteInt32(values.Length);
        var destination = Reserve(checked(values.Length * sizeof(int)));
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(values).CopyTo(destination);
            return;
        }

        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(destination[(i * sizeof(int))..], values[i]);
        }
    }

    /// <summary>Writes the byte count, then the bytes.</summary>
    public void WriteBytes(ReadOnlySpan<byte> values)
    {
        WriteInt32(values.Length);
        values.CopyTo(Reserve(values.Length));
    }

    /// <summary>
    /// Writes an actor reference as its serialized path (with this system's address when it is local), so the receiving
    /// system resolves it; null and <see cref="ActorRefs.Nobody"/> become the empty string.
    /// </summary>
    public void WriteActorRef(IActorRef? actor) => WriteString(ActorRefPath(actor));

    /// <summary>The frame; the buffer itself when it was filled exactly, a trimmed copy otherwise.</summary>
    public byte[] ToArray() => _length == _buffer.Length ? _buffer : _buffer.AsSpan(0, _length).ToArray();

    private static string ActorRefPath(IActorRef? actor) =>
        actor is null || actor.IsNobody() ? string.Empty : Akka.Serialization.Serialization.SerializedActorPath(actor);

    private Span<byte> Reserve(int count)
    {
        var end = _length + count;
        if (end > _buffer.Length)
        {
            // Doubling keeps the copies amortised; a caller that knows the size passes it as capacity and never gets here.
            var grown = new byte[System.Math.Max(end, (int)System.Math.Min(Array.MaxLength, 2L * _buffer.Length))];
            _buffer.AsSpan(0, _length).CopyTo(grown);
            _buffer = grown;
        }

        var span = _buffer.AsSpan(_length, count);
        _length = end;
        return span;
    }
}
