using System.Diagnostics;
using RingActors.Actors.Faults;
using static RingActors.Actors.Protocol.FaultProtocol;
using static RingActors.Actors.Protocol.LinkProtocol;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors.Devices;

/// <summary>What an <see cref="OutboundLink"/> asks its device actor to do; the actor owns the refs, timers and the wire.</summary>
public interface ILinkEffects
{
    /// <summary>Send <paramref name="frame"/> to the link's receiver now (<paramref name="delay"/> zero) or after <paramref name="delay"/>.</summary>
    void Transmit(LinkFrame frame, TimeSpan delay);

    /// <summary>Arm (or re-arm) the acknowledgement timer of frame <paramref name="sequence"/>.</summary>
    void StartAckTimer(long sequence, TimeSpan after);

    void CancelAckTimer(long sequence);

    /// <summary>Arm the timer that ends a partition after <paramref name="after"/>.</summary>
    void StartPartitionTimer(TimeSpan after);

    /// <summary>A fault was observed on this link (for the supervisor's ledger).</summary>
    void Report(FaultEvent observed);

    /// <summary>A hand-off could not be delivered within the retries: the job cannot recover.</summary>
    void Fail(LinkFailed failure);

    /// <summary>A credit grant the partition held back may now reach the device.</summary>
    void ReleaseCredit(GrantCredit grant);
}

/// <summary>
/// The sending end of the ring link from device <c>link</c> to its successor, kept on the sending device (so a block crosses
/// the network once, from its holder's node to its successor's) and outside the actor so it can be tested without one.
/// Every hand-off becomes a numbered <see cref="LinkFrame"/> of this sender incarnation for the receiver's current incarnation.
/// Under a <see cref="FaultPlan"/> (every cluster job has one) each transmission draws its fate from the plan (drop, delay,
/// duplicate) and is retransmitted when not acknowledged within the plan's timeout, at most <see cref="FaultPlan.Retries"/>
/// times; a partition cuts the link for a while (frames lost or held, acknowledgements lost, credits held) and everything
/// pending goes again when it heals. Without a plan (a local job), frames go once and nothing is kept.
/// </summary>
public sealed class OutboundLink
{
    private readonly string _jobId;
    private readonly int _link;
    private readonly int _receiverDevice;
    private readonly FaultPlan? _plan;
    private readonly LinkFaults? _faults;
    private readonly ILinkEffects _effects;
    private readonly SortedDictionary<long, Pending> _pending = [];
    private readonly List<AcceptBlock> _heldHandOffs = [];
    private readonly List<GrantCredit> _heldCredits = [];
    private long _nextSequence;
    private Cut? _cut;

    /// <param name="link">The sending device; the receiver is its successor on a ring of <paramref name="devices"/>.</param>
    /// <param name="senderEpoch">This sender's incarnation.</param>
    /// <param name="plan">The job's fault plan (acknowledged, retransmitting link), or null for a plain local link.</param>
    public OutboundLink(string jobId, int link, int devices, int senderEpoch, FaultPlan? plan, int trial, ILinkEffects effects)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        ArgumentNullException.ThrowIfNull(effects);
        _jobId = jobId;
        _link = link;
        _receiverDevice = (link + 1) % devices;
        SenderEpoch = senderEpoch;
        _plan = plan;
        _faults = plan is null ? null : new LinkFaults(plan, trial, link, _receiverDevice);
        _effects = effects;
    }

    public int SenderEpoch { get; }

    /// <summary>The receiver incarnation frames are addressed to.</summary>
    public int ReceiverEpoch { get; private set; }

    /// <summary>Frames sent and not acknowledged yet (always 0 without a plan).</summary>
    public int Unacknowledged => _pending.Count;

    /// <summary>Whether a partition cuts the link now.</summary>
    public bool IsCut => _cut is not null;

    /// <summary>Serialized frames re-sent: retransmissions and duplicates (for the statistics).</summary>
    public int Retransmissions { get; private set; }

    private bool Reliable => _plan is not null;

    private TimeSpan AckTimeout => _plan!.Timeout + _faults!.MaxDelay;

    /// <summary>Largest factor by which the acknowledgement timeout grows over a frame's retransmissions.</summary>
    private const int MaxBackoff = 16;

    /// <summary>
    /// The wait for attempt <paramref name="attempts"/>'s acknowledgement: the timeout, doubled per retransmission up to
    /// <see cref="MaxBackoff"/> times. A first contact between two device nodes (a TLS handshake, an association being set
    /// up on a loaded machine) can take longer than one timeout; backing off rides it out instead of spending every retry.
    /// The default five retries span 11.75 s: longer than the cluster takes to find a crashed receiver's node unreachable
    /// (3–6 s, more on a loaded machine), after which the coordinator re-creates the receiver and the link resumes. Capped at
    /// ×4 they spanned 4.75 s, and a loaded test run spent them all before the node was declared unreachable.
    /// </summary>
    private TimeSpan AckTimeoutFor(int attempts) => AckTimeout * System.Math.Min(1 << System.Math.Min(attempts, 30), MaxBackoff);

    private static long Now => Stopwatch.GetTimestamp();

    /// <summary>Hands <paramref name="block"/> on: now, or when the partition of the sender's node heals.</summary>
    public void Send(AcceptBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        if (_cut is { SenderCut: true })
        {
            _heldHandOffs.Add(block);
            return;
        }

        var pending = new Pending(_nextSequence++, block);
        if (!Reliable)
        {
            _effects.Transmit(Frame(pending), TimeSpan.Zero);
            return;
        }

        _pending.Add(pending.Sequence, pending);
        Transmit(pending);
    }

    /// <summary>The receiver acknowledged a frame; a second acknowledgement (duplicate or retransmission) changes nothing.</summary>
    public void OnAck(LinkAck ack)
    {
        ArgumentNullException.ThrowIfNull(ack);
        if (ack.SenderEpoch != SenderEpoch || _cut is { ReceiverCut: true } || !_pending.Remove(ack.Sequence, out var pending))
        {
            return;
        }

        _effects.CancelAckTimer(ack.Sequence);
        var now = Now;
        var where = $"hand-off {_link}→{_receiverDevice} (block of device {pending.Block.Origin}, step {pending.Block.Step})";
        // A frame retransmitted only because a partition held it up is the heal's event, reported there.
        if (pending.Attempts > 0 && (pending.DroppedBy is not null || pending.DelayedBy is not null || pending.CutBy is null))
        {
            var fault = pending.DroppedBy ?? pending.DelayedBy ?? "ack timeout";
            var injected = pending.DroppedAt != 0 ? pending.DroppedAt : pending.SentAt;
            _effects.Report(new FaultEvent(fault, where, injected, pending.DetectedAt, now, "retransmitted after the acknowledgement timeout", pending.Attempts, pending.ExtraBytes));
        }
        else if (pending.DelayedBy is { } delayed)
        {
            _effects.Report(new FaultEvent(delayed, where, pending.SentAt, 0, now, "delivered late", 0, 0));
        }

        if (pending.DuplicatedBy is { } duplicate)
        {
            _effects.Report(new FaultEvent(duplicate, where, pending.SentAt, now, now, "second copy dropped by the receiver (idempotent)", 0, pending.Block.PayloadBytes));
        }
    }

    /// <summary>The acknowledgement timer of frame <paramref name="sequence"/> fired: retransmit, or fail once the retries are spent.</summary>
    public void OnAckTimeout(long sequence)
    {
        if (!_pending.TryGetValue(sequence, out var pending))
        {
            return;
        }

        if (_cut is { ReceiverCut: true })
        {
            // What the partition holds up is awaited, not counted against the retries: the heal retransmits it.
            _effects.StartAckTimer(sequence, AckTimeout);
            return;
        }

        pending.DetectedAt = pending.DetectedAt == 0 ? Now : pending.DetectedAt;
        if (pending.Attempts >= _plan!.Retries)
        {
            var fault = pending.DroppedBy ?? pending.DelayedBy ?? "no acknowledgement";
            _pending.Remove(sequence);
            _effects.Fail(new LinkFailed(
                _jobId, _link, pending.Block.Step, pending.Block.Origin, pending.Attempts + 1,
                $"{fault}: the hand-off of device {pending.Block.Origin}'s block from device {_link} to device {_receiverDevice} (its step {pending.Block.Step}) "
                + $"went unacknowledged {pending.Attempts + 1} times; retries ({_plan.Retries}) exhausted"));
            return;
        }

        pending.Attempts++;
        Transmit(pending);
    }

    /// <summary>
    /// The receiver (a new incarnation, or the old one answering a new sender) says which of its steps it holds: frames of
    /// those steps are done with, the others go again to incarnation <see cref="LinkResume.ReceiverEpoch"/>. False for a resume
    /// from an older receiver incarnation than the current one (ignored).
    /// </summary>
    public bool OnResume(LinkResume resume)
    {
        ArgumentNullException.ThrowIfNull(resume);
        if (resume.ReceiverEpoch < ReceiverEpoch)
        {
            return false;
        }

        ReceiverEpoch = resume.ReceiverEpoch;
        var held = resume.StepsHeld.ToHashSet();
        foreach (var pending in _pending.Values.ToList())
        {
            if (held.Contains(pending.Block.Step))
            {
                _pending.Remove(pending.Sequence);
                _effects.CancelAckTimer(pending.Sequence);
            }
            else
            {
                pending.ExtraBytes += pending.Block.PayloadBytes;
                Retransmissions++;
                _effects.Transmit(Frame(pending), TimeSpan.Zero);
                _effects.StartAckTimer(pending.Sequence, AckTimeout);
            }
        }

        _heldHandOffs.RemoveAll(b => held.Contains(b.Step));
        return true;
    }

    /// <summary>A credit grant from the receiver: passed on (true), or held while the receiver's node is cut off (false).</summary>
    public bool AdmitCredit(GrantCredit grant)
    {
        if (_cut is { ReceiverCut: true })
        {
            _heldCredits.Add(grant);
            return false;
        }

        return true;
    }

    /// <summary>Cuts the link for <see cref="PartitionLink.Duration"/>.</summary>
    public void Partition(PartitionLink cut)
    {
        ArgumentNullException.ThrowIfNull(cut);
        _cut = new Cut(cut.Fault, cut.SenderCut, cut.ReceiverCut, Now);
        _effects.StartPartitionTimer(cut.Duration);
    }

    /// <summary>The partition ended: held hand-offs and credits go now, and every unacknowledged frame is retransmitted.</summary>
    public void Heal()
    {
        if (_cut is not { } cut)
        {
            return;
        }

        _cut = null;
        var held = _heldHandOffs.Count + _heldCredits.Count;
        foreach (var grant in _heldCredits)
        {
            _effects.ReleaseCredit(grant);
        }

        _heldCredits.Clear();
        var retransmitted = 0;
        long bytes = 0;
        foreach (var pending in _pending.Values.ToList())
        {
            pending.Attempts++;
            retransmitted++;
            bytes += pending.Block.PayloadBytes;
            _effects.CancelAckTimer(pending.Sequence);
            Transmit(pending);
        }

        var handOffs = _heldHandOffs.ToList();
        _heldHandOffs.Clear();
        foreach (var block in handOffs)
        {
            Send(block);
        }

        if (held > 0 || retransmitted > 0)
        {
            _effects.Report(new FaultEvent(
                cut.Fault, $"link {_link}→{_receiverDevice} ({(cut.SenderCut ? "sender" : "receiver")} cut off)", cut.At, cut.At, Now,
                $"{held} message(s) held and {retransmitted} frame(s) retransmitted when the partition healed", retransmitted, bytes));
        }
    }

    private LinkFrame Frame(Pending pending) => new(_jobId, _link, SenderEpoch, ReceiverEpoch, pending.Sequence, pending.Block);

    private void Transmit(Pending pending)
    {
        var now = Now;
        if (pending.Attempts > 0)
        {
            pending.ExtraBytes += pending.Block.PayloadBytes;
            Retransmissions++;
        }

        var fate = _faults!.Next();
        if (_cut is { ReceiverCut: true } cut)
        {
            pending.CutBy ??= cut.Fault;
            pending.DroppedAt = pending.DroppedAt == 0 ? now : pending.DroppedAt;
        }
        else if (fate.Dropped is { } drop)
        {
            pending.DroppedBy ??= drop.ToString();
            pending.DroppedAt = pending.DroppedAt == 0 ? now : pending.DroppedAt;
        }
        else
        {
            if (fate.Delayed is { } delayed)
            {
                pending.DelayedBy ??= delayed.ToString();
            }

            _effects.Transmit(Frame(pending), fate.Delay);
            if (fate.Duplicated is { } duplicate)
            {
                pending.DuplicatedBy ??= duplicate.ToString();
                pending.ExtraBytes += pending.Block.PayloadBytes;
                Retransmissions++;
                _effects.Transmit(Frame(pending), fate.Delay);
            }
        }

        if (pending.SentAt == 0)
        {
            pending.SentAt = now;
        }

        _effects.StartAckTimer(pending.Sequence, AckTimeoutFor(pending.Attempts));
    }

    private sealed record Cut(string Fault, bool SenderCut, bool ReceiverCut, long At);

    private sealed class Pending(long sequence, AcceptBlock block)
    {
        public long Sequence { get; } = sequence;

        public AcceptBlock Block { get; } = block;

        public int Attempts { get; set; }

        public long SentAt { get; set; }

        public long DroppedAt { get; set; }

        public long DetectedAt { get; set; }

        public long ExtraBytes { get; set; }

        public string? DroppedBy { get; set; }

        public string? DelayedBy { get; set; }

        public string? DuplicatedBy { get; set; }

        public string? CutBy { get; set; }
    }
}
