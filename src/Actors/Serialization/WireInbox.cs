using System.Runtime.Serialization;
using Akka.Actor;

namespace RingActors.Actors.Serialization;

/// <summary>
/// What <see cref="WireInbox.Accept"/> did with a chunk: <see cref="Message"/> once its transfer is whole, <see cref="Reason"/>
/// (one line, naming the sender and the transfer) when the chunk made its transfer refused. Stragglers of a refused transfer
/// come back <see cref="ChunkStatus.Dropped"/> without a reason, so the owner logs each refusal once.
/// </summary>
public readonly record struct WireResult(ChunkStatus Status, object? Message = null, string? Reason = null);

/// <summary>
/// The receiving side of <see cref="RingWire"/>: reassembles chunks and returns the message once its last chunk arrived; the
/// owning actor handles it as if it had arrived whole, from the same sender. One per actor, with one
/// <see cref="ChunkAssembler"/> per link (sender), since transfer ids are only unique per sender.
/// <para>
/// What a peer may make it hold is bounded per receiver, not per sender: one <see cref="TransferBudget"/>
/// (max-inbox-bytes) is charged by every link as chunks arrive; at most max-senders senders have partial transfers at once
/// (an idle link makes room for a new sender); each sender has at most max-concurrent-transfers pending; and
/// <see cref="Sweep"/> frees transfers idle for transfer-timeout (the owner calls <see cref="ScheduleSweep"/> after each chunk
/// and on <see cref="SweepDue"/>). Nothing here throws for what a peer sent: a refusal is a <see cref="WireResult"/>.
/// </para>
/// </summary>
public sealed class WireInbox
{
    /// <summary>The key of the owner's timer that delivers <see cref="SweepDue"/>.</summary>
    public const string SweepTimer = "wire-inbox-sweep";

    /// <summary>How many transfers refused for the sender cap are remembered, so that their stragglers are dropped silently.</summary>
    private const int RefusedMemory = 1024;

    private readonly ActorSystem _system;
    private readonly TimeProvider _clock;
    private readonly long _origin;
    private readonly Dictionary<IActorRef, ChunkAssembler> _links = [];
    private readonly HashSet<(IActorRef Sender, long TransferId)> _refused = [];
    private readonly Queue<(IActorRef Sender, long TransferId)> _refusedOrder = new();
    private RingMessageSerializer? _serializer;

    /// <param name="clock">Time of arrival for <see cref="Sweep"/>; the system clock when null (specs pass a manual one).</param>
    public WireInbox(ActorSystem system, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        _system = system;
        _clock = clock ?? TimeProvider.System;
        _origin = _clock.GetTimestamp();
        Settings = TransportSettings.Create(system.Settings.Config);
        Budget = new TransferBudget(Settings.MaxInboxBytes);
    }

    public TransportSettings Settings { get; }

    /// <summary>What the partial transfers of every link hold together (max-inbox-bytes).</summary>
    public TransferBudget Budget { get; }

    /// <summary>Links (senders) this inbox keeps an assembler for: those with partial transfers, and idle ones until they make room.</summary>
    public int Links => _links.Count;

    /// <summary>Senders with at least one partial transfer.</summary>
    public int Senders => _links.Values.Count(assembler => assembler.PendingTransfers > 0);

    /// <summary>Partial transfers over all senders.</summary>
    public int PendingTransfers => _links.Values.Sum(assembler => assembler.PendingTransfers);

    private TimeSpan Now => _clock.GetElapsedTime(_origin);

    /// <summary>The kind of a refusal <see cref="WireResult.Reason"/>: its text without numbers (transfer ids, sizes, ports), for logging once per kind.</summary>
    public static string KindOf(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        var kind = new System.Text.StringBuilder("wire ", reason.Length + 5);
        for (var i = 0; i < reason.Length; i++)
        {
            if (!char.IsAsciiDigit(reason[i]))
            {
                kind.Append(reason[i]);
            }
            else if (i == 0 || !char.IsAsciiDigit(reason[i - 1]))
            {
                kind.Append('#'); // a run of digits, whatever its length
            }
        }

        return kind.ToString();
    }

    private RingMessageSerializer Serializer =>
        _serializer ??= (RingMessageSerializer)_system.Serialization.FindSerializerForType(typeof(BlockChunk));

    /// <summary>Stores <paramref name="chunk"/> from <paramref name="sender"/>; the message when it completed its transfer.</summary>
    public WireResult Accept(BlockChunk chunk, IActorRef sender)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        ArgumentNullException.ThrowIfNull(sender);
        if (!_links.TryGetValue(sender, out var assembler))
        {
            if (_refused.Contains((sender, chunk.TransferId)))
            {
                return new WireResult(ChunkStatus.Dropped);
            }

            if (_links.Count >= Settings.MaxSenders && !RemoveAnIdleLink())
            {
                RememberRefused(sender, chunk.TransferId);
                return Refused(chunk, sender, $"{_links.Count} senders already have partial transfers here (max-senders = {Settings.MaxSenders})");
            }

            assembler = ChunkAssembler.For(Settings, Budget);
            _links.Add(sender, assembler);
        }

        var result = assembler.Accept(chunk, Now);
        switch (result.Status)
        {
            case ChunkStatus.Completed:
                try
                {
                    return new WireResult(ChunkStatus.Completed, Serializer.Unpack(result.Payload));
                }
                catch (SerializationException error)
                {
                    // The serializer turns every failure of a reader into a SerializationException (FrameSerializer.Decode).
                    return Refused(chunk, sender, $"its {result.Payload!.Length} bytes do not decode: {error.Message}");
                }

            case ChunkStatus.Refused:
                return Refused(chunk, sender, result.Reason ?? "refused");
            default:
                return new WireResult(result.Status);
        }
    }

    /// <summary>Frees every partial transfer that received no chunk for transfer-timeout; how many, and the bytes they held.</summary>
    public (int Transfers, long Bytes) Sweep()
    {
        var idleSince = Now - Settings.TransferTimeout;
        var (transfers, bytes) = (0, 0L);
        foreach (var assembler in _links.Values)
        {
            var (expired, held) = assembler.Expire(idleSince);
            transfers += expired;
            bytes += held;
        }

        return (transfers, bytes);
    }

    /// <summary>Starts the owner's <see cref="SweepTimer"/> (transfer-timeout) while transfers are pending and it is not running.</summary>
    public void ScheduleSweep(ITimerScheduler timers)
    {
        ArgumentNullException.ThrowIfNull(timers);
        if (PendingTransfers > 0 && !timers.IsTimerActive(SweepTimer))
        {
            timers.StartSingleTimer(SweepTimer, SweepDue.Instance, Settings.TransferTimeout);
        }
    }

    private WireResult Refused(BlockChunk chunk, IActorRef sender, string reason) =>
        new(ChunkStatus.Refused, Reason: $"chunked transfer {chunk.TransferId} from {sender.Path} refused and dropped: {reason}");

    /// <summary>Forgets a link whose transfers are all done (its memory of finished ids goes with it); false if every link is busy.</summary>
    private bool RemoveAnIdleLink()
    {
        foreach (var (sender, assembler) in _links)
        {
            if (assembler.PendingTransfers == 0)
            {
                _links.Remove(sender);
                return true;
            }
        }

        return false;
    }

    private void RememberRefused(IActorRef sender, long transferId)
    {
        if (_refused.Add((sender, transferId)))
        {
            _refusedOrder.Enqueue((sender, transferId));
            if (_refusedOrder.Count > RefusedMemory)
            {
                _refused.Remove(_refusedOrder.Dequeue());
            }
        }
    }

    /// <summary>Tells the owner to call <see cref="Sweep"/>; local to the owner (a timer), never serialized.</summary>
    public sealed class SweepDue : INoSerializationVerificationNeeded
    {
        private SweepDue()
        {
        }

        public static SweepDue Instance { get; } = new();
    }
}
