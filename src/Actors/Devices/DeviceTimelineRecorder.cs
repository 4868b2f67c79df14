using RingActors.Actors.Protocol;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors.Devices;

/// <summary>
/// What a device actor records for the timelines of its job: always the wall clock (<see cref="MeasuredDeviceClock"/>), and
/// with <see cref="DeviceSetup.VirtualTime"/> its simulated clock (<see cref="VirtualDeviceClock"/>), which stamps every hand-off
/// with its simulated send time and every credit grant with the simulated release of the slot it frees. The device actor calls
/// it from a few hooks; the protocol and its decisions are untouched.
/// </summary>
internal sealed class DeviceTimelineRecorder
{
    private readonly DeviceSetup _setup;
    private readonly MeasuredDeviceClock _measured;
    private readonly VirtualDeviceClock? _virtual;

    public DeviceTimelineRecorder(DeviceSetup setup, int initialCredits)
    {
        _setup = setup;
        _measured = new MeasuredDeviceClock(setup.Device);
        if (setup.VirtualTime is { } time)
        {
            _virtual = new VirtualDeviceClock(setup.Device, setup.Devices, time.Profile, initialCredits);
        }
    }

    public void Started(long now) => _measured.Started(now);

    /// <summary>An accepted block: its hand-off ends now on the wall clock, at send + bytes / bandwidth + latency on the virtual one.</summary>
    public void Accepted(AcceptBlock block, long now)
    {
        _measured.Received(block.Step, block.ReadySince, now);
        if (_virtual is not null)
        {
            if (block.VirtualSentAt is not { } sentAt)
            {
                throw new InvalidOperationException($"device {_setup.Device} runs in virtual time but the block of step {block.Step} carries no virtual send time");
            }

            _virtual.Received(block.Step, sentAt, Bytes(block.Positions.Length));
        }
    }

    /// <summary>The hand-off to send, stamped with its simulated send start when the job runs in virtual time.</summary>
    public AcceptBlock Stamp(AcceptBlock handOff) =>
        _virtual is null ? handOff : handOff with { VirtualSentAt = _virtual.HandOff(handOff.Step - 1, Bytes(handOff.Positions.Length)) };

    /// <summary>A credit grant of <paramref name="credits"/> to send, stamped with the simulated release of the slots it frees.</summary>
    public GrantCredit Grant(int credits) =>
        new(_setup.JobId, credits, _virtual?.TakeReleases(credits));

    /// <summary>Credits from the successor: usable on the virtual clock one link latency after the release they carry.</summary>
    public void Credited(GrantCredit grant)
    {
        if (_virtual is not null)
        {
            _virtual.Credited(grant.Credits, grant.VirtualReleasedAt
                ?? throw new InvalidOperationException($"device {_setup.Device} runs in virtual time but a credit grant carries no virtual release time"));
        }
    }

    /// <summary>A step computed (or skipped): the kernel's wall-clock run, and the exact FLOPs on the virtual clock.</summary>
    public void Computed(ComputeOutcome outcome)
    {
        _measured.Computed(outcome.Step, outcome.StartedAt, outcome.FinishedAt);
        _virtual?.Computed(outcome.Step, outcome.ExactFlops
            ?? throw new InvalidOperationException($"device {_setup.Device} runs in virtual time but step {outcome.Step} counted no exact FLOPs"));
    }

    /// <summary>The wall-clock timeline recorded so far (of a device about to stop).</summary>
    public Math.Modelling.DeviceTimeline MeasuredSoFar() => _measured.Timeline();

    /// <summary>The device's result with its timelines attached.</summary>
    public ChunkCompleted Attach(ChunkCompleted result) =>
        result with { MeasuredTimeline = _measured.Timeline(), VirtualTimeline = _virtual?.Timeline() };

    private long Bytes(int tokens) => _setup.VirtualTime!.BlockBytes(tokens, _setup.Heads);
}
