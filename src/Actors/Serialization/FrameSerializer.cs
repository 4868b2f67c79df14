using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;

namespace RingActors.Actors.Serialization;

/// <summary>Writes the fields of <typeparamref name="T"/> after the frame's version byte.</summary>
public delegate void FrameWrite<in T>(FrameWriter writer, T message);

/// <summary>Reads the fields of <typeparamref name="T"/>; the caller checks the version byte before and the end of frame after.</summary>
public delegate T FrameRead<out T>(ref FrameReader reader);

/// <summary>
/// A <see cref="SerializerWithStringManifest"/> driven by a table: each message type is registered once with a short
/// manifest (1–4 ASCII letters, stable forever), a writer and a reader. Frames start with <see cref="Version"/>; a frame
/// larger than <c>ring-actors.transport.max-message-bytes</c> is refused on both sides (split it with <see cref="BlockChunker"/>),
/// and decoding enforces the caps of <see cref="TransportSettings"/> through <see cref="FrameReader"/>.
/// </summary>
public abstract class FrameSerializer : SerializerWithStringManifest
{
    private readonly Dictionary<Type, Entry> _byType = [];
    private readonly Dictionary<string, Entry> _byManifest = new(StringComparer.Ordinal);

    protected FrameSerializer(ExtendedActorSystem system, byte version)
        : base(system)
    {
        Version = version;
        Settings = TransportSettings.Create(system.Settings.Config);
    }

    /// <summary>The first byte of every frame this serializer writes; a reader refuses any other.</summary>
    public byte Version { get; }

    public TransportSettings Settings { get; }

    /// <summary>The manifests registered so far, in registration order of types.</summary>
    public IEnumerable<string> Manifests => _byManifest.Keys;

    /// <summary>Bytes the registered writer produces for <paramref name="message"/> after the version byte (its size hint).</summary>
    public long SizeOf(object message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var entry = EntryFor(message);
        return entry.SizeHint?.Invoke(message) ?? ToBinary(message).Length - 1;
    }

    public override string Manifest(object o)
    {
        ArgumentNullException.ThrowIfNull(o);
        return EntryFor(o).Manifest;
    }

    public override byte[] ToBinary(object obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var entry = EntryFor(obj);
        var writer = new FrameWriter(Version, entry.Capacity(obj, 1));
        entry.Write(writer, obj);
        if (writer.Length > Settings.MaxMessageBytes)
        {
            throw new SerializationException(
                $"{obj.GetType().Name} is {writer.Length} bytes, over ring-actors.transport.max-message-bytes = {Settings.MaxMessageBytes}: split it into chunks");
        }

        return writer.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return Decode(bytes, manifest, Settings.MessageLimits);
    }

    /// <summary>
    /// A message as one self-describing payload of up to <c>max-transfer-bytes</c> — version, manifest, then the message's
    /// own frame — for messages too large for one remote frame: split it with <see cref="BlockChunker"/> and give the
    /// reassembled bytes to <see cref="Unpack"/>. Actor references are written with this system's address.
    /// </summary>
    public byte[] Pack(object message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var entry = EntryFor(message);
        var prefix = 1 + FrameWriter.SizeOfString(entry.Manifest);
        var writer = new FrameWriter(Version, entry.Capacity(message, prefix + 1));
        writer.WriteString(entry.Manifest);
        writer.WriteByte(Version);
        Akka.Serialization.Serialization.WithTransport(system, () =>
        {
            entry.Write(writer, message);
            return writer.Length;
        });
        if (writer.Length > Settings.MaxTransferBytes)
        {
            throw new SerializationException(
                $"{message.GetType().Name} is {writer.Length} bytes, over ring-actors.transport.max-transfer-bytes = {Settings.MaxTransferBytes}");
        }

        return writer.ToArray();
    }

    /// <summary>The message <see cref="Pack"/> wrote, decoded under the transfer caps.</summary>
    public object Unpack(ReadOnlySpan<byte> payload)
    {
        string manifest;
        int remaining;
        try
        {
            var reader = new FrameReader(payload, Settings.TransferLimits, Version);
            manifest = reader.ReadString("manifest");
            remaining = reader.Remaining;
        }
        catch (Exception error) when (error is not SerializationException)
        {
            throw Malformed("packed", error);
        }

        return Decode(payload[^remaining..], manifest, Settings.TransferLimits);
    }

    /// <summary>
    /// Decodes one frame of <paramref name="manifest"/> under <paramref name="limits"/>; the whole frame must be consumed.
    /// Throws only <see cref="SerializationException"/>: whatever else a reader throws (a message's own constructor checks, a
    /// parser, a bug) is wrapped in one, so a caller needs one catch for everything a peer can send.
    /// </summary>
    public object Decode(ReadOnlySpan<byte> frame, string manifest, FrameLimits limits)
    {
        if (!_byManifest.TryGetValue(manifest ?? string.Empty, out var entry))
        {
            throw new SerializationException($"unknown manifest '{manifest}' for {GetType().Name}");
        }

        try
        {
            var reader = new FrameReader(frame, limits, Version, system);
            var message = entry.Read(ref reader);
            reader.EnsureEnd();
            return message;
        }
        catch (Exception error) when (error is not SerializationException)
        {
            throw Malformed(manifest!, error);
        }
    }

    /// <summary>The <see cref="SerializationException"/> that stands for any other failure of the reader of <paramref name="manifest"/>.</summary>
    protected static SerializationException Malformed(string manifest, Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new SerializationException($"malformed frame: the '{manifest}' reader failed with {error.GetType().Name}: {error.Message}", error);
    }

    /// <summary>
    /// Adds a message type to the table. <paramref name="sizeHint"/>, when given, is the exact (or estimated) number of
    /// bytes <paramref name="write"/> produces, so a large message is written into one buffer of the right size, never copied.
    /// </summary>
    protected void Register<T>(string manifest, FrameWrite<T> write, FrameRead<T> read, Func<T, long>? sizeHint = null)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(write);
        ArgumentNullException.ThrowIfNull(read);
        if (string.IsNullOrEmpty(manifest) || manifest.Length > 4 || !manifest.All(char.IsAsciiLetter))
        {
            throw new ArgumentException($"manifest must be 1–4 ASCII letters, got '{manifest}'", nameof(manifest));
        }

        if (_byManifest.ContainsKey(manifest))
        {
            throw new ArgumentException($"manifest '{manifest}' is already registered", nameof(manifest));
        }

        if (_byType.ContainsKey(typeof(T)))
        {
            throw new ArgumentException($"{typeof(T).Name} is already registered", nameof(T));
        }

        var entry = new Entry(
            manifest,
            (writer, message) => write(writer, (T)message),
            (ref FrameReader reader) => read(ref reader),
            sizeHint is null ? null : message => sizeHint((T)message));
        _byType.Add(typeof(T), entry);
        _byManifest.Add(manifest, entry);
    }

    private Entry EntryFor(object message) =>
        _byType.TryGetValue(message.GetType(), out var entry)
            ? entry
            : throw new ArgumentException($"{GetType().Name} cannot serialize {message.GetType().FullName}", nameof(message));

    private sealed record Entry(string Manifest, Action<FrameWriter, object> Write, FrameRead<object> Read, Func<object, long>? SizeHint)
    {
        /// <summary>The writer's starting capacity: the hinted size plus <paramref name="prefix"/> bytes already written.</summary>
        public int Capacity(object message, int prefix) =>
            SizeHint is null ? 256 : (int)System.Math.Clamp(SizeHint(message) + prefix, 1, Array.MaxLength);
    }
}
