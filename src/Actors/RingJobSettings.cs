using RingActors.Actors.Protocol;
using RingActors.Math;
using RingActors.Math.Masks;

namespace RingActors.Actors;

/// <summary>How to run one ring job.</summary>
/// <param name="Devices">Ring size P, 1 ≤ P ≤ N.</param>
/// <param name="Layout">How tokens are split over the devices.</param>
/// <param name="Causal">Whether a query attends only keys at or before its position.</param>
/// <param name="Pattern">A sparse pattern the ring is restricted to (null: every pair, or the causal ones); empty (chunk, block) pairs are skipped.</param>
/// <param name="Scale">Scale of Q·Kᵀ; null means 1/√d.</param>
/// <param name="ThreadsPerDevice">Threads of one device's kernel; null takes <c>ring-actors.threads-per-device</c>.</param>
/// <param name="Deadline">Time after which the job fails; null takes <c>ring-actors.job-deadline</c>.</param>
/// <param name="JobId">Names the job in every message; null draws a fresh one.</param>
public sealed record RingJobSettings(
    int Devices,
    LayoutKind Layout = LayoutKind.Zigzag,
    bool Causal = false,
    AttentionPattern? Pattern = null,
    float? Scale = null,
    int? ThreadsPerDevice = null,
    TimeSpan? Deadline = null,
    string? JobId = null)
{
    /// <summary>Test hooks passed to every device (slow compute, a failing device).</summary>
    internal DeviceHooks Hooks { get; init; } = DeviceHooks.None;

    /// <summary>Faults to inject and how to recover from them; null runs the plain ring (a crash fails the job).</summary>
    public Faults.FaultPlan? Faults { get; init; }

    /// <summary>Which trial of an experiment this is: with <see cref="Faults"/>'s seed it fixes every random fault decision.</summary>
    public int Trial { get; init; }

    /// <summary>
    /// Run in virtual time on this modelled hardware: each device keeps a simulated clock and the result carries the
    /// <see cref="RingResult.VirtualTimeline"/>. Null: wall clock only. Required for a phantom input (<see cref="AttentionInput.Phantom"/>).
    /// </summary>
    public VirtualTimeSettings? VirtualTime { get; init; }

    /// <summary>
    /// <see cref="Pattern"/> as its spec (PatternSpec syntax) with the seed it was parsed with: what travels to devices deployed
    /// on other nodes, which parse it again. Needed when <see cref="Placement"/> is given and there is a pattern.
    /// </summary>
    public string? PatternSpec { get; init; }

    /// <summary>Seed <see cref="PatternSpec"/> is parsed with.</summary>
    public int PatternSeed { get; init; }

    /// <summary>
    /// Where device r runs: the address of a cluster node (remote deployment), one per device; null runs every device in
    /// the supervisor's own actor system.
    /// </summary>
    public Cluster.DevicePlacement? Placement { get; init; }

    /// <summary>
    /// Run the backward pass after the forward, for this output gradient; null runs the forward only. The result then
    /// carries <see cref="RingResult.Gradients"/>.
    /// </summary>
    public BackwardPass? Backward { get; init; }

    /// <summary>The type each block's partial output and gradient contributions are kept in before their fp32 merge.</summary>
    public PartialPrecision PartialPrecision { get; init; } = PartialPrecision.Fp32;

    /// <summary>The attention options every device uses.</summary>
    public AttentionOptions OptionsFor(int threads) => new(Causal, Pattern, Scale, threads);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the setting when the job cannot run on <paramref name="shape"/>.</summary>
    public RingJobSettings Validate(AttentionShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        shape.Validate();
        if (Devices < 1)
        {
            throw new ArgumentException($"devices must be ≥ 1, got {Devices}", nameof(Devices));
        }

        if (Devices > shape.SeqLen)
        {
            throw new ArgumentException($"devices ({Devices}) must not exceed the sequence length ({shape.SeqLen}): every device needs a token", nameof(Devices));
        }

        if (!Enum.IsDefined(Layout))
        {
            throw new ArgumentException($"unknown layout {Layout}", nameof(Layout));
        }

        if (ThreadsPerDevice is < 1)
        {
            throw new ArgumentException($"threads per device must be ≥ 1, got {ThreadsPerDevice}", nameof(ThreadsPerDevice));
        }

        if (Deadline is { } deadline && deadline <= TimeSpan.Zero)
        {
            throw new ArgumentException($"deadline must be positive, got {deadline}", nameof(Deadline));
        }

        if (Scale is { } scale && !float.IsFinite(scale))
        {
            throw new ArgumentException($"scale must be finite, got {scale}", nameof(Scale));
        }

        // A pattern built for another length (a random table, a block layout) or other heads (top-k) cannot run on this input.
        Pattern?.Validate(shape);

        Faults?.ValidateFor(Devices, cluster: Placement is not null, backward: Backward is not null);
        if (Placement is { } placement)
        {
            if (placement.Devices != Devices)
            {
                throw new ArgumentException($"placement names {placement.Devices} nodes for {Devices} devices: give one per device", nameof(Placement));
            }

            if (Pattern is not null && PatternSpec is null)
            {
                throw new ArgumentException("a pattern travels to other nodes as its spec: set PatternSpec", nameof(PatternSpec));
            }

            if (VirtualTime is not null)
            {
                throw new ArgumentException("virtual time runs in one process only, not on a cluster placement", nameof(Placement));
            }
        }
        VirtualTime?.Validate();
        Backward?.Validate(shape);
        if (Backward is not null && VirtualTime is not null)
        {
            throw new ArgumentException("the backward pass runs on the wall clock only, not in virtual time", nameof(Backward));
        }

        if (!Enum.IsDefined(PartialPrecision))
        {
            throw new ArgumentException($"unknown partial precision {PartialPrecision}", nameof(PartialPrecision));
        }

        if (JobId is "")
        {
            throw new ArgumentException("job id must not be empty", nameof(JobId));
        }

        return this;
    }
}
