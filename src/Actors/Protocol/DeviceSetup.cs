using RingActors.Actors.Configuration;
using RingActors.Actors.Faults;
using RingActors.Math;

namespace RingActors.Actors.Protocol;

/// <summary>
/// What a device knows before its chunk arrives: its job, its place in the ring, the problem's sizes and how to attend.
/// It travels in the device's Props, not in a message, because <see cref="AttentionOptions"/> may hold a pattern object.
/// </summary>
/// <param name="SeqLen">Tokens of the whole sequence: every position a block carries must lie in 0..SeqLen−1.</param>
/// <param name="MaxBlocksHeld">Key/value blocks the device may hold at once, at least 2 (the one it computes on and the next).</param>
/// <param name="ComputeDispatcher">Dispatcher id (a HOCON path) the device's compute worker runs on.</param>
public sealed record DeviceSetup(
    string JobId,
    int Device,
    int Devices,
    int SeqLen,
    AttentionHeads Heads,
    AttentionOptions Options,
    int MaxBlocksHeld = DeviceSetup.DefaultMaxBlocksHeld,
    string ComputeDispatcher = RingActorsSettings.DefaultComputeDispatcher)
{
    public const int DefaultMaxBlocksHeld = 2;

    /// <summary>Test hooks: slow compute down, make one device fail. Not part of the public API.</summary>
    internal DeviceHooks Hooks { get; init; } = DeviceHooks.None;

    /// <summary>
    /// The pattern of <see cref="AttentionOptions.Pattern"/> as its spec (PatternSpec syntax), so a device deployed on another
    /// node can parse it again there with <see cref="PatternSeed"/>; null when there is no pattern or it cannot travel.
    /// </summary>
    public string? PatternSpec { get; init; }

    /// <summary>Seed the pattern spec is parsed with (random and BigBird patterns draw from it).</summary>
    public int PatternSeed { get; init; }

    /// <summary>
    /// The job's fault plan: the device's outbound link numbers, acknowledges and retransmits hand-offs and injects the plan's
    /// link faults (drop, delay, duplicate). Null: a plain local link (frames sent once). Every cluster job has one.
    /// </summary>
    public FaultPlan? Faults { get; init; }

    /// <summary>Which trial of an experiment the job is: with the plan's seed it fixes every random fault decision.</summary>
    public int Trial { get; init; }

    /// <summary>Incarnation of the device: 0 at the start, one more each time the supervisor re-creates it after a crash.</summary>
    public int Epoch { get; init; }

    /// <summary>Keep a simulated clock on this modelled hardware (null: wall clock only).</summary>
    public VirtualTimeSettings? VirtualTime { get; init; }

    /// <summary>A phantom job: chunks and blocks carry positions only (empty arrays), the kernel is skipped. Needs <see cref="VirtualTime"/>.</summary>
    public bool Phantom { get; init; }

    /// <summary>The type each block's partial output (forward) and gradient contributions (backward) are kept in before their fp32 merge.</summary>
    public PartialPrecision PartialPrecision { get; init; } = PartialPrecision.Fp32;

    /// <summary>Whether the job runs the backward pass after the forward (fault steps then run 0..2P−1).</summary>
    public bool Backward { get; init; }

    public RingTopology Topology => new(Devices);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first value out of range.</summary>
    public DeviceSetup Validate()
    {
        if (string.IsNullOrEmpty(JobId))
        {
            throw new ArgumentException("job id must not be empty", nameof(JobId));
        }

        if (Devices < 1 || (uint)Device >= (uint)Devices)
        {
            throw new ArgumentException($"device must be in 0..{Devices - 1} of {Devices} devices, got {Device}", nameof(Device));
        }

        if (SeqLen < Devices)
        {
            throw new ArgumentException($"{Devices} devices need at least {Devices} tokens, got {SeqLen}", nameof(SeqLen));
        }

        if (MaxBlocksHeld < 2)
        {
            throw new ArgumentException($"a device must hold at least 2 blocks (the one it computes on and the next), got {MaxBlocksHeld}", nameof(MaxBlocksHeld));
        }

        Heads.WithTokens(1).Validate();
        if (Phantom && VirtualTime is null)
        {
            throw new ArgumentException("a phantom device computes nothing: it needs virtual time to be of use", nameof(Phantom));
        }

        VirtualTime?.Validate();
        return this;
    }
}

/// <summary>
/// Test hooks of a device: <see cref="ComputeDelay"/> makes each block's compute last at least that long (so tests can prove the
/// hand-off does not wait for compute); device <see cref="FailingDevice"/> throws (or stops, if <see cref="StopInsteadOfThrowing"/>)
/// when it reaches <see cref="FailAtStep"/>.
/// </summary>
/// <see cref="SlowFactor"/> stretches each compute to that many times its duration (the slow-device fault).
/// <see cref="Loses"/> makes every device lose the first of each kind of one-shot message named (the watchdog's specs).
internal sealed record DeviceHooks(TimeSpan ComputeDelay, int FailingDevice = -1, int FailAtStep = -1, bool StopInsteadOfThrowing = false, double SlowFactor = 1, LostMessages Loses = LostMessages.None)
{
    public static readonly DeviceHooks None = new(TimeSpan.Zero);

    public bool FailsAt(int device, int step) => device == FailingDevice && step == FailAtStep;
}

/// <summary>One-shot messages a device loses the first of (a test hook: as if Akka.Remote had dropped it).</summary>
[Flags]
internal enum LostMessages
{
    None = 0,

    /// <summary>The first <c>AssignChunk</c> received.</summary>
    Setup = 1,

    /// <summary>The first <c>StartRing</c> received.</summary>
    Start = 2,

    /// <summary>The first <c>SetupTaken</c> sent.</summary>
    Acknowledgement = 4,

    /// <summary>The first <c>ChunkCompleted</c> sent.</summary>
    Result = 8,

    /// <summary>The first <c>FlushFaults</c> received.</summary>
    Flush = 16,

    /// <summary>The first <c>FaultsFlushed</c> sent.</summary>
    FlushAnswer = 32,

    /// <summary>The first <c>StartBackward</c> received.</summary>
    BackwardStart = 64,

    /// <summary>The first <c>GradientsCompleted</c> sent.</summary>
    BackwardResult = 128,
}

/// <summary>A device's <see cref="DeviceHooks.Loses"/>: true once for each kind it loses.</summary>
internal sealed class FirstLosses(LostMessages loses)
{
    private LostMessages _left = loses;

    public bool Lose(LostMessages kind)
    {
        if ((_left & kind) == 0)
        {
            return false;
        }

        _left &= ~kind;
        return true;
    }
}
