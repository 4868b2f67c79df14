namespace RingActors.Actors;

/// <summary>What the supervisor sends a device again.</summary>
public enum Resend
{
    /// <summary>Its setup (the <c>AssignChunk</c>, then <c>StartRing</c>; or the <c>RecoverChunk</c> of a re-created device).</summary>
    Setup,

    /// <summary><c>StartRing</c>: the device holds its chunk but has not said it runs.</summary>
    Start,

    /// <summary><c>StartRing</c> to a running device: one that has finished answers with its result again, one that has not ignores it.</summary>
    Result,

    /// <summary><c>FlushFaults</c>: the device has not answered the flush.</summary>
    Flush,
}

/// <summary>
/// The supervisor's stall watchdog (plain class, no Akka): which of the one-shot messages of a job each device's current
/// incarnation has acknowledged, and what to send it again when it has been quiet for too long. Akka.Remote delivers at most
/// once: a setup, a <c>StartRing</c>, a result or a flush answer lost in a quarantine or association hiccup would otherwise
/// leave the job waiting for its deadline.
/// <para>
/// A device is due when nothing was sent to it or heard from it (any message of its current incarnation: an acknowledgement,
/// progress, a fault event, a piece of a large result) for <c>resend-after</c> × 2^k, where k counts the resends since it was
/// last heard from, at most 3 (so 1, 2, 4, 8, 8, … × resend-after). What is due follows the device's phase: its setup until it
/// says it holds its chunk (<c>SetupTaken</c>), <c>StartRing</c> until it says it runs, then <c>StartRing</c> again as the
/// request for its result (a tiny message a running device ignores), and, once every result is in, <c>FlushFaults</c> until it
/// answers. Every repeat is idempotent at the device, and this class takes each device's result and flush answer once
/// (<see cref="Flushed"/>), so a duplicate answer never finishes a job early nor counts a fault twice.
/// </para>
/// </summary>
public sealed class RingWatchdog
{
    private const int MaxDoublings = 3;

    private readonly Watch[] _devices;
    private readonly TimeSpan _resendAfter;
    private bool _flushing;

    /// <param name="devices">Devices of the job.</param>
    /// <param name="resendAfter">Quiet time after which an unacknowledged message is sent again (the first time); &gt; 0.</param>
    public RingWatchdog(int devices, TimeSpan resendAfter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(devices, 1);
        if (resendAfter <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(resendAfter), resendAfter, "resend-after must be positive");
        }

        _resendAfter = resendAfter;
        _devices = Enumerable.Range(0, devices).Select(_ => new Watch()).ToArray();
    }

    /// <summary>Messages sent again so far, of every kind.</summary>
    public int Resends { get; private set; }

    /// <summary>Whether every device has answered the flush (false before <see cref="Flushing"/>).</summary>
    public bool AllFlushed => _flushing && _devices.All(d => d.Phase == Phase.Flushed);

    /// <summary>The phase device <paramref name="device"/> is in, for a deadline's reason and the specs.</summary>
    public string PhaseOf(int device) => _devices[device].Phase.ToString();

    /// <summary>
    /// Device <paramref name="device"/>'s incarnation was sent its setup at <paramref name="now"/> (a new incarnation restarts
    /// its watch). A re-created device (<paramref name="recovering"/>) starts as soon as it has its chunk.
    /// </summary>
    public void SetupSent(int device, TimeSpan now, bool recovering = false) =>
        _devices[device] = new Watch { Phase = Phase.Setup, LastSent = now, LastHeard = now, Recovering = recovering };

    /// <summary>The current incarnation of <paramref name="device"/> holds its chunk, and runs when <paramref name="started"/>.</summary>
    public void Took(int device, bool started, TimeSpan now)
    {
        var watch = _devices[device];
        Heard(device, now);
        if (watch.Phase is Phase.Setup || (watch.Phase is Phase.Ready && started))
        {
            watch.Phase = started || watch.Recovering ? Phase.Running : Phase.Ready;
        }
    }

    /// <summary>A message of the current incarnation of <paramref name="device"/> arrived: it is alive, its backoff starts again.</summary>
    public void Heard(int device, TimeSpan now)
    {
        var watch = _devices[device];
        watch.LastHeard = now;
        watch.Resent = 0;
    }

    /// <summary>The result of <paramref name="device"/> is in (the collector took it).</summary>
    public void Completed(int device, TimeSpan now)
    {
        Heard(device, now);
        var watch = _devices[device];
        if (watch.Phase < Phase.Completed)
        {
            watch.Phase = _flushing ? Phase.Flushing : Phase.Completed;
        }
    }

    /// <summary>Every result is in and every device was asked to flush at <paramref name="now"/>.</summary>
    public void Flushing(TimeSpan now)
    {
        _flushing = true;
        foreach (var watch in _devices.Where(d => d.Phase == Phase.Completed))
        {
            watch.Phase = Phase.Flushing;
            watch.LastSent = now;
        }
    }

    /// <summary>
    /// A second pass (the backward) was started on every device at <paramref name="now"/>: each is running again, its result
    /// awaited (the pass's start message, sent again, is also the request for it), and a new flush follows the new results.
    /// </summary>
    public void PassStarted(TimeSpan now)
    {
        _flushing = false;
        foreach (var watch in _devices)
        {
            watch.Phase = Phase.Running;
            watch.LastSent = now;
            watch.Resent = 0;
        }
    }

    /// <summary>Device <paramref name="device"/> answered the flush: true the first time only.</summary>
    public bool Flushed(int device, TimeSpan now)
    {
        var watch = _devices[device];
        if (watch.Phase != Phase.Flushing)
        {
            return false;
        }

        Heard(device, now);
        watch.Phase = Phase.Flushed;
        return true;
    }

    /// <summary>
    /// The node of <paramref name="device"/>, whose result is in, was lost: it will answer no flush, and there is nothing
    /// left to wait for (fault events it had not sent are lost with its node). True when this changed its phase.
    /// </summary>
    public bool Gone(int device)
    {
        var watch = _devices[device];
        if (watch.Phase is not (Phase.Completed or Phase.Flushing))
        {
            return false;
        }

        watch.Phase = Phase.Flushed;
        return true;
    }

    /// <summary>
    /// What to send again at <paramref name="now"/>, device by device; each device named is counted as sent to now, and its
    /// next resend waits twice as long (up to 8 × resend-after) unless it is heard from meanwhile.
    /// </summary>
    public IReadOnlyList<(int Device, Resend What)> Due(TimeSpan now)
    {
        var due = new List<(int, Resend)>();
        for (var r = 0; r < _devices.Length; r++)
        {
            var watch = _devices[r];
            Resend? what = watch.Phase switch
            {
                Phase.Setup => Resend.Setup,
                Phase.Ready => Resend.Start,
                Phase.Running => Resend.Result,
                Phase.Flushing => Resend.Flush,
                _ => null,
            };
            var quiet = now - (watch.LastSent > watch.LastHeard ? watch.LastSent : watch.LastHeard);
            if (what is { } resend && quiet >= _resendAfter * (1 << System.Math.Min(watch.Resent, MaxDoublings)))
            {
                watch.LastSent = now;
                watch.Resent++;
                Resends++;
                due.Add((r, resend));
            }
        }

        return due;
    }

    private enum Phase
    {
        Setup,
        Ready,
        Running,
        Completed,
        Flushing,
        Flushed,
    }

    private sealed class Watch
    {
        public Phase Phase { get; set; } = Phase.Setup;

        public TimeSpan LastSent { get; set; }

        public TimeSpan LastHeard { get; set; }

        public int Resent { get; set; }

        public bool Recovering { get; init; }
    }
}
