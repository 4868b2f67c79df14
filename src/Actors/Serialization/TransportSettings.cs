using Akka.Configuration;
using RingActors.Actors.Configuration;

namespace RingActors.Actors.Serialization;

/// <summary>
/// The caps of <c>ring-actors.transport</c>: how large one remote message may be, how large a payload split into chunks may
/// become once reassembled, what the partial transfers of one receiver may hold (bytes, senders, transfers per sender, idle
/// time), the per-array and per-string caps a decoder enforces, and what a device's pattern may cost to build.
/// </summary>
public sealed record TransportSettings(
    int MaxMessageBytes,
    int MaxTransferBytes,
    int MaxArrayElements,
    int MaxStringBytes,
    int MaxConcurrentTransfers,
    long MaxInboxBytes,
    int MaxSenders,
    TimeSpan TransferTimeout,
    long MaxPatternBytes)
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
            (int)ByteSize(section, "max-message-bytes", Array.MaxLength),
            (int)ByteSize(section, "max-transfer-bytes", Array.MaxLength),
            section.GetInt("max-array-elements"),
            (int)ByteSize(section, "max-string-bytes", Array.MaxLength),
            section.GetInt("max-concurrent-transfers"),
            ByteSize(section, "max-inbox-bytes", long.MaxValue),
            section.GetInt("max-senders"),
            section.GetTimeSpan("transfer-timeout", null, allowInfinite: false),
            ByteSize(section, "max-pattern-bytes", long.MaxValue)).Validate();
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

        if (MaxInboxBytes < MaxTransferBytes)
        {
            throw new ArgumentException(
                $"ring-actors.transport.max-inbox-bytes ({MaxInboxBytes}) must be ≥ max-transfer-bytes ({MaxTransferBytes}): one whole transfer must fit", nameof(MaxInboxBytes));
        }

        if (MaxSenders <= 0)
        {
            throw new ArgumentException($"ring-actors.transport.max-senders must be ≥ 1, got {MaxSenders}", nameof(MaxSenders));
        }

        if (TransferTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"ring-actors.transport.transfer-timeout must be > 0, got {TransferTimeout}", nameof(TransferTimeout));
        }

        if (MaxPatternBytes <= 0)
        {
            throw new ArgumentException($"ring-actors.transport.max-pattern-bytes must be ≥ 1, got {MaxPatternBytes}", nameof(MaxPatternBytes));
        }

        return this;
    }

    private static long ByteSize(Config section, string key, long max)
    {
        var bytes = section.GetByteSize(key) ?? throw new ArgumentException($"ring-actors.transport.{key} is missing", key);
        if (bytes <= 0 || bytes > max)
        {
            throw new ArgumentException($"ring-actors.transport.{key} must be in [1, {max}] bytes, got {bytes}", key);
        }

        return bytes;
    }
}
