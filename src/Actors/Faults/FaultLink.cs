using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using static RingActors.Actors.Faults.FaultProtocol;
using static RingActors.Actors.RingProtocol;

namespace RingActors.Actors.Faults;

/// <summary>
/// The ring link from device <c>link</c> to its successor when a job runs under a fault plan, a child of the supervisor so
/// that it outlives device restarts. Hand-offs from the sender are numbered, pass through the plan's faults (drop, delay via
/// a timer, duplicate) and are retransmitted when not acknowledged in time, at most <see cref="FaultPlan.Retries"/> times;
/// credits from the receiver pass back to the sender and are counted, so a re-created sender resumes with the credits
/// and the outstanding hand-offs of its predecessor incarnation, and a re-created receiver gets every unacknowledged frame again.
/// </summary>
public sealed class FaultLink : ReceiveActor, IWithTimers
{
    private readonly string _jobId;
    private readonly int _link;
    private readonly int _devices;
    private readonly FaultPlan _plan;
    private readonly LinkFaults _faults;
    private readonly IActorRef _supervisor;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly SortedDictionary<long, Pending> _pending = [];
    private readonly HashSet<int> _stepsSent = [];
    private IActorRef _sender = ActorRefs.Nobody;
    private IActorRef _receiver = ActorRefs.Nobody;
    private int _epoch;
    private int _granted;
    private int _sent;
    private long _nextSequence;
    private Serialization.WireInbox? _wireInbox;
    private PartitionLink? _cut;
    private long _cutAt;
    private int _cutRetransmissions;
    private long _cutBytes;
    private readonly List<(object Message, IActorRef Sender)> _held = [];

    public FaultLink(string jobId, int link, int devices, int initialCredits, FaultPlan plan, int trial, IActorRef supervisor)
    {
        _jobId = jobId;
        _link = link;
        _devices = devices;
        _plan = plan;
        _granted = initialCredits;
        _supervisor = supervisor;
        _faults = new LinkFaults(plan, trial, link, (link + 1) % devices);

        // partition: while the sender's node is cut off its hand-offs cannot cross (held, and sent when it heals); while the
        // receiver's node is, frames to it are lost, and its acknowledgements and credits cannot come back (acks lost, credits
        // held). Acknowledgement timeouts in the cut do not count against the retries: the partition's end is what is awaited.
        Receive<Serialization.BlockChunk>(OnChunk);
        Receive<PartitionLink>(OnPartition);
        Receive<PartitionHealed>(_ => Heal());
        Receive<AcceptBlock>(_ => _cut?.Sender == true, m => _held.Add((m, Sender)));
        Receive<GrantCredit>(_ => _cut?.Receiver == true, m => _held.Add((m, Sender)));
        Receive<LinkAck>(_ => _cut?.Receiver == true, _ => { });
        Receive<Deliver>(_ => _cut?.Receiver == true, _ => { });
        Receive<AckTimeout>(_ => _cut?.Receiver == true, m => Timers.StartSingleTimer(("ack", m.Sequence), m, _plan.Timeout + _faults.MaxDelay));
        Receive<WireLink>(m =>
        {
            _sender = m.Sender;
            _receiver = m.Receiver;
            _epoch = m.ReceiverEpoch;
        });
        Receive<AcceptBlock>(OnHandOff);
        Receive<GrantCredit>(m =>
        {
            _granted += m.Credits;
            _sender.Tell(m);
        });
        Receive<LinkAck>(m => m.Epoch == _epoch, OnAck);
        Receive<LinkAck>(_ => { });
        Receive<LinkRefused>(m => _log.Debug("Link {0}→{1}: frame {2} refused: {3}", _link, Receiver, m.Sequence, m.Reason));
        Receive<BlockRefused>(m => _sender.Tell(m));
        Receive<AckTimeout>(OnTimeout);
        Receive<Deliver>(m => Serialization.RingWire.Tell(Context.System, m.Target, m.Frame, Self));
        Receive<ReceiverReplaced>(OnReceiverReplaced);
        Receive<FlushFaults>(m => Sender.Tell(new FaultsFlushed(m.JobId, _link)));
        Receive<SenderReplaced>(m =>
        {
            _sender = m.Sender;
            _sender.Tell(new LinkResume(_jobId, _granted - _sent, [.. _stepsSent.Order()]));
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    private int Receiver => (_link + 1) % _devices;

    /// <summary>The link from device <paramref name="link"/> to its successor.</summary>
    public static Props Props(string jobId, int link, int devices, int initialCredits, FaultPlan plan, int trial, IActorRef supervisor) =>
        Akka.Actor.Props.Create(() => new FaultLink(jobId, link, devices, initialCredits, plan, trial, supervisor));

    private static long Now => Stopwatch.GetTimestamp();

    private void OnHandOff(AcceptBlock block)
    {
        var senderStep = block.Step - 1;
        if (!_stepsSent.Add(senderStep))
        {
            _log.Warning("Link {0}→{1}: step {2}'s hand-off was already taken; dropped", _link, Receiver, senderStep);
            return;
        }

        _sent++;
        var pending = new Pending(_nextSequence++, block);
        _pending.Add(pending.Sequence, pending);
        Transmit(pending);
    }

    private void Transmit(Pending pending)
    {
        var frame = new LinkFrame(_jobId, _link, _epoch, pending.Sequence, pending.Block);
        var fate = _faults.Next();
        var now = Now;
        if (pending.Attempts > 0)
        {
            pending.ExtraBytes += pending.Block.PayloadBytes;
        }

        if (_cut is { Receiver: true } cut)
        {
            pending.DroppedBy ??= cut.Fault;
            pending.DroppedAt = pending.DroppedAt == 0 ? now : pending.DroppedAt;
        }
        else if (fate.Dropped is { } drop)
        {
            pending.DroppedBy ??= drop;
            pending.DroppedAt = pending.DroppedAt == 0 ? now : pending.DroppedAt;
        }
        else
        {
            if (fate.Delayed is { } delayed)
            {
                pending.DelayedBy ??= delayed;
            }

            Send(frame, fate.Delay, pending.Sequence, 0);
            if (fate.Duplicated is { } duplicate)
            {
                pending.DuplicatedBy ??= duplicate;
                pending.ExtraBytes += pending.Block.PayloadBytes;
                Send(frame, fate.Delay, pending.Sequence, 1);
            }
        }

        if (pending.SentAt == 0)
        {
            pending.SentAt = now;
        }

        Timers.StartSingleTimer(("ack", pending.Sequence), new AckTimeout(pending.Sequence), _plan.Timeout + _faults.MaxDelay);
    }

    private void Send(LinkFrame frame, TimeSpan delay, long sequence, int copy)
    {
        if (delay <= TimeSpan.Zero)
        {
            Serialization.RingWire.Tell(Context.System, _receiver, frame, Self);
        }
        else
        {
            Timers.StartSingleTimer(("deliver", sequence, frame.Epoch, copy, Now), new Deliver(_receiver, frame), delay);
        }
    }

    private void OnTimeout(AckTimeout timeout)
    {
        if (!_pending.TryGetValue(timeout.Sequence, out var pending))
        {
            return;
        }

        pending.DetectedAt = pending.DetectedAt == 0 ? Now : pending.DetectedAt;
        if (pending.Attempts >= _plan.Retries)
        {
            var fault = pending.DroppedBy?.ToString() ?? pending.DelayedBy?.ToString() ?? "no acknowledgement";
            _supervisor.Tell(new LinkFailed(
                _jobId, _link, pending.Block.Step, pending.Block.Origin, pending.Attempts + 1,
                $"{fault}: the hand-off of device {pending.Block.Origin}'s block from device {_link} to device {Receiver} (its step {pending.Block.Step}) "
                + $"went unacknowledged {pending.Attempts + 1} times; retries ({_plan.Retries}) exhausted"));
            _pending.Remove(timeout.Sequence);
            return;
        }

        pending.Attempts++;
        Transmit(pending);
    }

    private void OnAck(LinkAck ack)
    {
        if (!_pending.Remove(ack.Sequence, out var pending))
        {
            return; // a second acknowledgement (duplicate or retransmission): already accounted for
        }

        Timers.Cancel(("ack", ack.Sequence));
        var now = Now;
        var where = $"hand-off {_link}→{Receiver} (block of device {pending.Block.Origin}, step {pending.Block.Step})";
        if (pending.Attempts > 0)
        {
            var fault = pending.DroppedBy?.ToString() ?? pending.DelayedBy?.ToString() ?? "ack timeout";
            var injected = pending.DroppedAt != 0 ? pending.DroppedAt : pending.SentAt;
            Report(new FaultEvent(fault, where, injected, pending.DetectedAt, now, "retransmitted after the acknowledgement timeout", pending.Attempts, pending.ExtraBytes));
        }
        else if (pending.DelayedBy is { } delayed)
        {
            Report(new FaultEvent(delayed.ToString(), where, pending.SentAt, 0, now, "delivered late", 0, 0));
        }

        if (pending.DuplicatedBy is { } duplicate)
        {
            Report(new FaultEvent(duplicate.ToString(), where, pending.SentAt, now, now, "second copy dropped by the receiver (idempotent)", 0, pending.Block.PayloadBytes));
        }
    }

    private void OnReceiverReplaced(ReceiverReplaced replaced)
    {
        _receiver = replaced.Receiver;
        _epoch = replaced.Epoch;

        // The new incarnation has every block from the supervisor and returns no credits: the sender may send what is left.
        var remaining = (_devices - 1) - _granted;
        if (remaining > 0)
        {
            _granted += remaining;
            _sender.Tell(new GrantCredit(_jobId, remaining));
        }

        foreach (var pending in _pending.Values)
        {
            Send(new LinkFrame(_jobId, _link, _epoch, pending.Sequence, pending.Block), TimeSpan.Zero, pending.Sequence, 0);
        }
    }

    private void Report(FaultEvent e) => _supervisor.Tell(new FaultObserved(_jobId, e));

    private sealed class Pending(long sequence, AcceptBlock block)
    {
        public long Sequence { get; } = sequence;

        public AcceptBlock Block { get; } = block;

        public int Attempts { get; set; }

        public long SentAt { get; set; }

        public long DroppedAt { get; set; }

        public long DetectedAt { get; set; }

        public long ExtraBytes { get; set; }

        public FaultSpec? DroppedBy { get; set; }

        public FaultSpec? DelayedBy { get; set; }

        public FaultSpec? DuplicatedBy { get; set; }
    }

    /// <summary>A piece of a hand-off too large for one remote message (from a device on another node): once whole, handled as if it had arrived so.</summary>
    private void OnChunk(Serialization.BlockChunk chunk)
    {
        _wireInbox ??= new Serialization.WireInbox(Context.System);
        if (_wireInbox.Accept(chunk, Sender) is { } message)
        {
            Self.Tell(message, Sender);
        }
    }

    private void OnPartition(PartitionLink cut)
    {
        _cut = cut;
        _cutAt = Now;
        _cutRetransmissions = 0;
        _cutBytes = 0;
        Timers.StartSingleTimer("partition", PartitionHealed.Instance, cut.Duration);
    }

    /// <summary>The partition ended: what the sender handed off in the cut goes now, and every unacknowledged frame is retransmitted.</summary>
    private void Heal()
    {
        if (_cut is not { } cut)
        {
            return;
        }

        _cut = null;
        foreach (var (message, sender) in _held)
        {
            Self.Tell(message, sender);
        }

        var held = _held.Count;
        _held.Clear();
        foreach (var pending in _pending.Values)
        {
            pending.Attempts++;
            _cutRetransmissions++;
            _cutBytes += pending.Block.PayloadBytes;
            Timers.Cancel(("ack", pending.Sequence));
            Transmit(pending);
        }

        if (held > 0 || _cutRetransmissions > 0)
        {
            Report(new FaultEvent(
                cut.Fault.ToString(), $"link {_link}→{Receiver} ({(cut.Sender ? "sender" : "receiver")} cut off)", _cutAt, _cutAt, Now,
                $"{held} message(s) held and {_cutRetransmissions} frame(s) retransmitted when the partition healed", _cutRetransmissions, _cutBytes));
        }
    }

    private sealed record AckTimeout(long Sequence);

    private sealed class PartitionHealed
    {
        public static readonly PartitionHealed Instance = new();
    }

    private sealed record Deliver(IActorRef Target, LinkFrame Frame);
}

/// <summary>
/// The partition fault on one link, from the supervisor (local only): for <paramref name="Duration"/>, the link's sender
/// (<paramref name="Sender"/>) and/or receiver (<paramref name="Receiver"/>) is on the node cut off by <paramref name="Fault"/>.
/// </summary>
internal sealed record PartitionLink(FaultSpec.Partition Fault, bool Sender, bool Receiver, TimeSpan Duration);
