using RingActors.Math.Modelling;

namespace RingActors.Actors.Devices;

/// <summary>
/// One device's simulated clock, fed by the events of the real protocol and applying <see cref="StepTiming"/> exactly as
/// <see cref="RingTimelineSimulator"/> does, so a ring of actors and the simulator give the same timeline:
/// <list type="bullet">
/// <item>the own block is held at time 0; a received block is held at its send time + bytes / bandwidth + latency;</item>
/// <item>a hand-off starts when the block is held, the link is free and a credit is in hand; a credit is usable one link
/// latency after the successor released the block that freed the slot (the first min(limit − 1, P − 1) at time 0);</item>
/// <item>a step starts when the device is free and its block is held, and lasts FLOPs / (peak · efficiency);</item>
/// <item>a block is released when computed and, if it goes on, its last byte has left the link.</item>
/// </list>
/// Nothing here reads a wall clock: the times depend only on FLOPs, bytes and the profile. Steps must be reported in
/// step order (the device computes them so); releases are consumed in step order, as the device frees its slots.
/// </summary>
public sealed class VirtualDeviceClock
{
    private readonly DeviceProfile _profile;
    private readonly int _devices;
    private readonly double[] _heldAt;
    private readonly double[] _sentAt;
    private readonly double[] _forwardLinkFreeAt;
    private readonly double[] _computeEnd;
    private readonly Queue<double> _credits = new();
    private readonly List<TimelineInterval> _intervals = [];
    private double _freeAt;
    private double _linkFreeAt;
    private int _nextStep;
    private int _nextRelease;
    private StepWindow _previousWindow;
    private StepWindow _windowBefore;
    private double _compute;
    private double _idle;
    private double _communication;
    private double _hidden;
    private int _received;

    /// <summary>A clock for <paramref name="device"/> of a ring of <paramref name="devices"/> that starts with <paramref name="initialCredits"/> credits.</summary>
    public VirtualDeviceClock(int device, int devices, DeviceProfile profile, int initialCredits)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (devices < 1 || (uint)device >= (uint)devices)
        {
            throw new ArgumentException($"device must be in 0..{devices - 1} of {devices} devices, got {device}", nameof(device));
        }

        if (initialCredits < 0)
        {
            throw new ArgumentException($"initial credits must be ≥ 0, got {initialCredits}", nameof(initialCredits));
        }

        Device = device;
        _devices = devices;
        _profile = profile;
        _heldAt = new double[devices];
        _sentAt = new double[devices];
        _forwardLinkFreeAt = new double[devices];
        _computeEnd = new double[devices];
        Array.Fill(_forwardLinkFreeAt, double.NaN);
        Array.Fill(_computeEnd, double.NaN);
        for (var i = 0; i < initialCredits; i++)
        {
            _credits.Enqueue(StepTiming.CreditAt(double.NegativeInfinity, profile));
        }
    }

    public int Device { get; }

    /// <summary>Simulated time at which the device finished its last reported step.</summary>
    public double FreeAt => _freeAt;

    /// <summary>Steps computed so far.</summary>
    public int StepsDone => _nextStep;

    /// <summary>The block of <paramref name="step"/> was received, sent at <paramref name="sentAt"/> with <paramref name="bytes"/>; returns its arrival.</summary>
    public double Received(int step, double sentAt, long bytes)
    {
        CheckStep(step);
        if (step == 0)
        {
            throw new ArgumentException("step 0 is the device's own block, never received", nameof(step));
        }

        _sentAt[step] = sentAt;
        _heldAt[step] = StepTiming.ArrivesAt(sentAt, bytes, _profile);
        _received++;
        return _heldAt[step];
    }

    /// <summary>The successor granted <paramref name="credits"/> credits for slots it freed at simulated <paramref name="releasedAt"/>.</summary>
    public void Credited(int credits, double releasedAt)
    {
        for (var i = 0; i < credits; i++)
        {
            _credits.Enqueue(StepTiming.CreditAt(releasedAt, _profile));
        }
    }

    /// <summary>
    /// The block of <paramref name="step"/> goes on to the successor, <paramref name="bytes"/> of it, against the oldest
    /// credit; returns the simulated send start the hand-off carries.
    /// </summary>
    public double HandOff(int step, long bytes)
    {
        CheckStep(step);
        if (!_credits.TryDequeue(out var creditAt))
        {
            throw new InvalidOperationException($"device {Device} hands on the block of step {step} without a credit on its virtual clock");
        }

        var send = StepTiming.Send(_heldAt[step], _linkFreeAt, creditAt, bytes, _profile);
        _linkFreeAt = send.LinkFreeAt;
        _forwardLinkFreeAt[step] = send.LinkFreeAt;
        return send.Start;
    }

    /// <summary>
    /// The simulated time at which the device freed the slots of the next <paramref name="credits"/> released blocks (in
    /// step order): the latest of them, which the credit grant carries to the predecessor.
    /// </summary>
    public double TakeReleases(int credits)
    {
        var latest = double.NegativeInfinity;
        for (var i = 0; i < credits; i++)
        {
            var step = _nextRelease + i;
            if (step >= _devices || double.IsNaN(_computeEnd[step]))
            {
                throw new InvalidOperationException($"device {Device} grants a credit for a slot its virtual clock has not freed (step {step})");
            }

            var forwarded = step < _devices - 1 ? _forwardLinkFreeAt[step] : (double?)null;
            if (forwarded is double.NaN)
            {
                throw new InvalidOperationException($"device {Device} grants a credit before the block of step {step} went on");
            }

            latest = System.Math.Max(latest, StepTiming.ReleasedAt(_computeEnd[step], forwarded));
        }

        _nextRelease += credits;
        return latest;
    }

    /// <summary>Step <paramref name="step"/> computed <paramref name="flops"/> FLOPs: its simulated window.</summary>
    public StepWindow Computed(int step, double flops)
    {
        if (step != _nextStep)
        {
            throw new InvalidOperationException($"device {Device} computed step {step}, its virtual clock expects step {_nextStep}");
        }

        var window = StepTiming.Next(_freeAt, _heldAt[step], StepTiming.ComputeSeconds(flops, _profile));

        // The same sums in the same order as RingTimelineSimulator, so the two agree to the last bit.
        if (step > 0)
        {
            var communication = new StepWindow(_sentAt[step], _heldAt[step]);
            _communication += communication.Duration;
            _hidden += Overlap(communication, _previousWindow) + Overlap(communication, _windowBefore);
            Add(IntervalKind.Communicate, communication.Start, communication.End, step);
        }

        _idle += window.Start - _freeAt;
        Add(IntervalKind.Idle, _freeAt, window.Start, step);
        _compute += window.Duration;
        Add(IntervalKind.Compute, window.Start, window.End, step);

        _computeEnd[step] = window.End;
        _windowBefore = _previousWindow;
        _previousWindow = window;
        _freeAt = window.End;
        _nextStep++;
        return window;
    }

    /// <summary>
    /// The device's timeline so far, without the idle wait after its last step (the ring's end is known only to the
    /// supervisor: <see cref="RingTimelines.Assemble"/> adds it).
    /// </summary>
    public DeviceTimeline Timeline() =>
        new(Device, [.. _intervals], _compute, _idle, _communication, _hidden, _freeAt, _received);

    private void Add(IntervalKind kind, double start, double end, int step)
    {
        if (end > start)
        {
            _intervals.Add(new TimelineInterval(kind, start, end, step));
        }
    }

    private void CheckStep(int step)
    {
        if ((uint)step >= (uint)_devices)
        {
            throw new ArgumentException($"step must be in 0..{_devices - 1}, got {step}", nameof(step));
        }
    }

    private static double Overlap(StepWindow a, StepWindow b) =>
        System.Math.Max(0, System.Math.Min(a.End, b.End) - System.Math.Max(a.Start, b.Start));
}
