using System.Diagnostics;
using RingActors.Actors.Faults;
using static RingActors.Actors.Protocol.GradientProtocol;

namespace RingActors.Actors.Devices;

/// <summary>What a <see cref="ContributionOutbox"/> asks its device actor to do; the actor owns the refs and timers.</summary>
public interface IContributionEffects
{
    /// <summary>Send <paramref name="contribution"/> to the current incarnation of its home, now or after <paramref name="delay"/>.</summary>
    void Transmit(Contribution contribution, TimeSpan delay);

    void StartAckTimer(long sequence, TimeSpan after);

    void CancelAckTimer(long sequence);

    /// <summary>A fault was observed on a contribution (for the supervisor's ledger).</summary>
    void Report(FaultEvent observed);

    /// <summary>A contribution went unacknowledged through every retry: the job cannot recover.</summary>
    void Fail(int home, int attempts, string reason);
}

/// <summary>
/// The dK/dV contributions a device sends to the home devices of the blocks it met in the backward pass (plain class, no
/// Akka). Under a fault plan each contribution is numbered, drawn its fate from the plan (drop, delay, duplicate, on a seeded
/// source of its own per (contributor, home)), kept until its home acknowledges it and retransmitted after the timeout, at
/// most <see cref="FaultPlan.Retries"/> times. Its home sums it at most once whatever arrives (<see cref="GradientHome"/>), so
/// retransmitting is always safe. When a home is re-created its pending contributions are dropped: the new incarnation asks
/// for them again (<see cref="RecomputeContribution"/>). Without a plan a contribution goes once and nothing is kept.
/// </summary>
public sealed class ContributionOutbox
{
    private readonly string _jobId;
    private readonly int _device;
    private readonly int _devices;
    private readonly int _epoch;
    private readonly FaultPlan? _plan;
    private readonly int _trial;
    private readonly IContributionEffects _effects;
    private readonly int[] _homeEpochs;
    private readonly Dictionary<int, LinkFaults> _faults = [];
    private readonly SortedDictionary<long, Pending> _pending = [];
    private long _nextSequence;

    public ContributionOutbox(string jobId, int device, int devices, int epoch, FaultPlan? plan, int trial, IReadOnlyList<int> homeEpochs, IContributionEffects effects)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        ArgumentNullException.ThrowIfNull(homeEpochs);
        ArgumentNullException.ThrowIfNull(effects);
        if (homeEpochs.Count != devices)
        {
            throw new ArgumentException($"{devices} devices need {devices} home epochs, got {homeEpochs.Count}", nameof(homeEpochs));
        }

        _jobId = jobId;
        _device = device;
        _devices = devices;
        _epoch = epoch;
        _plan = plan;
        _trial = trial;
        _homeEpochs = [.. homeEpochs];
        _effects = effects;
    }

    /// <summary>Contributions sent and not acknowledged (always 0 without a plan).</summary>
    public int Unacknowledged => _pending.Count;

    /// <summary>Contributions sent (first transmissions).</summary>
    public int Sent { get; private set; }

    /// <summary>Transmissions besides the first: retransmissions and injected duplicates.</summary>
    public int Retransmissions { get; private set; }

    /// <summary>Extra bytes those cost.</summary>
    public long ExtraBytes { get; private set; }

    /// <summary>The incarnation of <paramref name="home"/> contributions go to.</summary>
    public int HomeEpoch(int home) => _homeEpochs[home];

    /// <summary>Sends this device's contribution to the block of <paramref name="home"/> (empty arrays: a wholly masked pair).</summary>
    public void Send(int home, float[] keys, float[] values)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(values);
        var contribution = new Contribution(_jobId, _device, _epoch, home, _homeEpochs[home], _nextSequence++, keys, values);
        Sent++;
        if (_plan is null)
        {
            _effects.Transmit(contribution, TimeSpan.Zero);
            return;
        }

        var pending = new Pending(contribution);
        _pending.Add(contribution.Sequence, pending);
        Transmit(pending);
    }

    /// <summary>The home acknowledged; a second acknowledgement, or one for another incarnation of this device, changes nothing.</summary>
    public void OnAck(ContributionAck ack)
    {
        ArgumentNullException.ThrowIfNull(ack);
        if (ack.ContributorEpoch != _epoch || !_pending.Remove(ack.Sequence, out var pending))
        {
            return;
        }

        _effects.CancelAckTimer(ack.Sequence);
        var where = $"contribution {_device}→{pending.Contribution.Home} (dK/dV of device {pending.Contribution.Home}'s block)";
        var now = Stopwatch.GetTimestamp();
        if (pending.Attempts > 0)
        {
            _effects.Report(new FaultEvent(pending.DroppedBy ?? pending.DelayedBy ?? "ack timeout", where, pending.SentAt, pending.DetectedAt, now,
                "contribution retransmitted after the acknowledgement timeout; summed once by its home", pending.Attempts, pending.ExtraBytes));
        }
        else if (pending.DelayedBy is { } delayed)
        {
            _effects.Report(new FaultEvent(delayed, where, pending.SentAt, 0, now, "delivered late", 0, 0));
        }

        if (pending.DuplicatedBy is { } duplicate)
        {
            _effects.Report(new FaultEvent(duplicate, where, pending.SentAt, now, now, "second copy acknowledged, not summed again by its home", 0, Bytes(pending.Contribution)));
        }
    }

    /// <summary>The acknowledgement timer of <paramref name="sequence"/> fired: retransmit, or fail once the retries are spent.</summary>
    public void OnAckTimeout(long sequence)
    {
        if (!_pending.TryGetValue(sequence, out var pending))
        {
            return;
        }

        pending.DetectedAt = pending.DetectedAt == 0 ? Stopwatch.GetTimestamp() : pending.DetectedAt;
        if (pending.Attempts >= _plan!.Retries)
        {
            _pending.Remove(sequence);
            var fault = pending.DroppedBy ?? pending.DelayedBy ?? "no acknowledgement";
            _effects.Fail(pending.Contribution.Home, pending.Attempts + 1,
                $"{fault}: device {_device}'s dK/dV contribution to device {pending.Contribution.Home}'s block went unacknowledged {pending.Attempts + 1} times; retries ({_plan.Retries}) exhausted");
            return;
        }

        pending.Attempts++;
        Transmit(pending);
    }

    /// <summary>
    /// <paramref name="home"/> was re-created as incarnation <paramref name="epoch"/>: contributions go there from now on, and the
    /// ones pending for the lost incarnation are dropped (returned: how many), since the new home asks for all of them again.
    /// </summary>
    public int HomeReplaced(int home, int epoch)
    {
        if (epoch <= _homeEpochs[home])
        {
            return 0;
        }

        _homeEpochs[home] = epoch;
        var dropped = 0;
        foreach (var pending in _pending.Values.Where(p => p.Contribution.Home == home).ToList())
        {
            _pending.Remove(pending.Contribution.Sequence);
            _effects.CancelAckTimer(pending.Contribution.Sequence);
            dropped++;
        }

        return dropped;
    }

    private static long Bytes(Contribution c) => ((long)c.Keys.Length + c.Values.Length) * sizeof(float);

    private LinkFaults FaultsFor(int home)
    {
        if (!_faults.TryGetValue(home, out var faults))
        {
            // A stream of its own per (contributor, home), apart from the ring links' (0..P−1): a trial still replays exactly.
            faults = new LinkFaults(_plan!, _trial, _devices * (1 + _device) + home, home);
            _faults[home] = faults;
        }

        return faults;
    }

    private void Transmit(Pending pending)
    {
        var faults = FaultsFor(pending.Contribution.Home);
        if (pending.Attempts > 0)
        {
            Retransmissions++;
            pending.ExtraBytes += Bytes(pending.Contribution);
            ExtraBytes += Bytes(pending.Contribution);
        }

        var fate = faults.Next();
        var now = Stopwatch.GetTimestamp();
        pending.SentAt = pending.SentAt == 0 ? now : pending.SentAt;
        if (fate.Dropped is { } drop)
        {
            pending.DroppedBy ??= drop.ToString();
        }
        else
        {
            if (fate.Delayed is { } delayed)
            {
                pending.DelayedBy ??= delayed.ToString();
            }

            _effects.Transmit(pending.Contribution, fate.Delay);
            if (fate.Duplicated is { } duplicate)
            {
                pending.DuplicatedBy ??= duplicate.ToString();
                Retransmissions++;
                ExtraBytes += Bytes(pending.Contribution);
                _effects.Transmit(pending.Contribution, fate.Delay);
            }
        }

        var timeout = (_plan!.Timeout + faults.MaxDelay) * System.Math.Min(1 << System.Math.Min(pending.Attempts, 30), 4);
        _effects.StartAckTimer(pending.Contribution.Sequence, timeout);
    }

    private sealed class Pending(Contribution contribution)
    {
        public Contribution Contribution { get; } = contribution;

        public int Attempts { get; set; }

        public long SentAt { get; set; }

        public long DetectedAt { get; set; }

        public long ExtraBytes { get; set; }

        public string? DroppedBy { get; set; }

        public string? DelayedBy { get; set; }

        public string? DuplicatedBy { get; set; }
    }
}
