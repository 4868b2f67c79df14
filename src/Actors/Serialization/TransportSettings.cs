using Akka.Configuration;
using RingActors.Actors.Configuration;

namespace RingActors.Actors.Serialization;

/// <summary>
/// The size caps of <c>ring-actors.transport</c>: how large one remote message may be, how large a block split into
/// chunks may become once reassembled, and the per-array and per-string caps a decoder enforces.
/// </summary>
public sealed record TransportSettings(
    int MaxMessageBytes,
    int MaxTransferBytes,
    int MaxArrayElements,
    int MaxStringBytes,
    int MaxConcurrentTransfers)
{
    /// <summary>Smallest message cap that still leaves room for a chunk's header and some payload.</summary>
    public const int MinMessageBytes = 1024;

    /// <summary>The defaults of the embedded cluster-reference.conf.</summary>
    public static TransportSettings Default { get; } = Create(ClusterDefaults.Config);

    /// <summary>Caps for one message that travels as one remote frame.</summary>
    public FrameLimits MessageLimits => new(MaxMessageBytes, MaxArrayElements, MaxStringBytes);

    /// <summary>Caps for a payload reassembled from chunks.</summary>
    public FrameLimits TransferLimits => new(MaxTransferBytes, MaxArrayElements, MaxStringBytes);

    /// <summary>Payload bytes one <see cref="BlockChunk"/> may carry so that its frame stays within <see cref="MaxMessageBytes"/>.</summary>
    public int ChunkPayloadBytes => MaxMessageBytes - RingMessageSerializer.ChunkFrameOverhead;

    /// <summary>Reads <c>ring-actors.transport</c>; keys missing from <paramref name="config"/> take the embedded defaults.</summary>
    public static TransportSettings Create(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var complete = ReferenceEquals(config, ClusterDefaults.Config) ? config : config.WithFallback(ClusterDefaults.Config);
        var section = complete.GetConfig("ring-actors.transport");
        return new TransportSettings(
            ByteSize(section, "max-message-bytes"),
            ByteSize(section, "max-transfer-bytes"),
            section.GetInt("max-array-elements"),
            ByteSize(section, "max-string-bytes"),
            section.GetInt("max-concurrent-transfers")).Validate();
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the key whose value is out of range.</summary>
    public TransportSettings Validate()
    {
        if (MaxMessageBytes < MinMessageBytes)
        {
            throw new ArgumentException($"ring-actors.transport.max-message-bytes must be ≥ {MinMessageBytes}, got {MaxMessageBytes}", nameof(MaxMessageBytes));
        }

        if (MaxTransferBytes < MaxMessageBytes)
        {
            throw new ArgumentException(
                $"ring-actors.transport.max-transfer-bytes ({MaxTransferBytes}) must be ≥ max-message-bytes ({MaxMessageBytes})", nameof(MaxTransferBytes));
        }

        if (MaxArrayElements <= 0)
        {
            throw new ArgumentException($"ring-actors.transport.max-array-elements must be ≥ 1, got {MaxArrayElements}", nameof(MaxArrayElements));
        }

        if (MaxStringBytes <= 0 || MaxStringBytes > MaxMessageBytes)
        {
            throw new ArgumentException(
                $"ring-actors.transport.max-string-bytes must be in [1, max-message-bytes = {MaxMessageBytes}], got {MaxStringBytes}", nameof(MaxStringBytes));
        }

        if (MaxConcurrentTransfers <= 0)
        {
            throw new ArgumentException($"ring-actors.transport.max-concurrent-transfers must be ≥ 1, got {MaxConcurrentTransfers}", nameof(MaxConcurrentTransfers));
        }

        return this;
    }

    private static int ByteSize(Config section, string key)
    {
        var bytes = section.GetByteSize(key) ?? throw new ArgumentException($"ring-actors.transport.{key} is missing", key);
        if (bytes <= 0 || bytes > Array.MaxLength)
        {
            throw new ArgumentException($"ring-actors.transport.{key} must be in [1, {Array.MaxLength}] bytes, got {bytes}", key);
        }

        return (int)bytes;
    }
}
