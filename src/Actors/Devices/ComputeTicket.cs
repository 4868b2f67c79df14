using System.Diagnostics;
using RingActors.Math;

namespace RingActors.Actors.Devices;

/// <summary>
/// One block's compute, handed by a device to its compute worker: merge the attention of the query chunk over the block
/// into the running partial result. While a ticket is out, the device does not touch its partial (the worker owns it until
/// it answers with a <see cref="ComputeOutcome"/>); tickets are issued one at a time. It shares the partial by reference
/// with the device's own child, so it never leaves the process (not checked by serialize-messages).
/// </summary>
public sealed class ComputeTicket : Akka.Actor.INoSerializationVerificationNeeded
{
    internal ComputeTicket(int device, int step, int origin, QueryChunk queries, KeyValueBlock block, AttentionHeads heads, AttentionOptions options, PartialAttention? into, long issuedAt)
    {
        Device = device;
        Step = step;
        Origin = origin;
        Queries = queries;
        Block = block;
        Heads = heads;
        Options = options;
        Into = into;
        IssuedAt = issuedAt;
    }

    public int Device { get; }

    public int Step { get; }

    public int Origin { get; }

    public QueryChunk Queries { get; }

    public KeyValueBlock Block { get; }

    public AttentionHeads Heads { get; }

    public AttentionOptions Options { get; }

    /// <summary>The forward's running partial the block is merged into; null in the backward.</summary>
    public PartialAttention? Into { get; }

    /// <summary>The type the block's partial output or gradient contributions are kept in before their fp32 merge.</summary>
    internal PartialPrecision Precision { get; init; }

    /// <summary>The backward's rows (Q, dO, lse, D); null in the forward.</summary>
    internal BackwardRows? Rows { get; init; }

    /// <summary>The backward's dQ the block's contribution is added to (a scratch array for a contribution-only ticket).</summary>
    internal float[]? QueryGradient { get; init; }

    /// <summary>A backward ticket that only recomputes the block's contribution for a re-created home (its dQ is scratch).</summary>
    internal bool ContributionOnly { get; init; }

    /// <summary>
    /// The device's work left in its pass, this block included (allowed query–key pairs, an upper bound under a sparse
    /// pattern): the <see cref="ComputeGate"/> admits the ticket with the most work left first.
    /// </summary>
    internal long WorkLeft { get; init; }

    /// <summary>A ticket that computes nothing (phantom, or a pair the mask leaves empty) and so needs no compute slot.</summary>
    internal bool TakesNoSlot => Phantom || IsEmpty;

    /// <summary>Whether the mask leaves the pair wholly empty; classified once, for the worker's gate and for <see cref="Execute"/>.</summary>
    private bool IsEmpty => _isEmpty ??= BlockSkipping.IsEmpty(Options, Heads, Queries.Positions, Block.Positions);

    private bool? _isEmpty;

    /// <summary>Stopwatch timestamp at which the device issued the ticket.</summary>
    public long IssuedAt { get; }

    /// <summary>A phantom job's ticket: no numbers, the kernel is skipped and only the exact work is counted.</summary>
    internal bool Phantom { get; init; }

    /// <summary>Count the exact FLOPs of the pair for the virtual clock (<see cref="ComputeOutcome.ExactFlops"/>).</summary>
    internal bool CountsExactFlops { get; init; }

    /// <summary>
    /// Skips the block when the mask leaves the pair wholly empty, otherwise merges it (the kernel also skips empty tiles inside).
    /// <paramref name="delay"/> stretches the compute (test hook). Timestamps bracket the whole call.
    /// </summary>
    public ComputeOutcome Execute(TimeSpan delay = default)
    {
        var started = Stopwatch.GetTimestamp();
        if (delay > TimeSpan.Zero)
        {
            // Test hook only: stands for a slow kernel, and blocks the compute thread exactly as one would.
            Thread.Sleep(delay);
        }

        if (IsEmpty)
        {
            // A skipped pair of the backward still has a contribution for the block's home: zero, sent as empty arrays.
            return new ComputeOutcome(Step, Origin, true, new BlockWork(0, 0, 0, Heads.HeadDim), IssuedAt, started, Stopwatch.GetTimestamp(), CountsExactFlops ? 0 : null)
            {
                Gradients = Rows is null ? null : new KeyValueGradients([], []),
                ContributionOnly = ContributionOnly,
            };
        }

        if (Phantom)
        {
            var pairs = PairCounting.AllowedPairs(Options, Heads, Queries.Positions, Block.Positions);
            var phantomWork = new BlockWork(pairs, 0, 0, Heads.HeadDim);
            return new ComputeOutcome(Step, Origin, false, phantomWork, IssuedAt, started, Stopwatch.GetTimestamp(), phantomWork.Flops);
        }

        if (Rows is not null)
        {
            // The backward (ANCHORS.md §7): dQ accumulates here, the block's dK/dV contribution goes to the block's home.
            var gradients = KeyValueGradients.Zero(Heads, Block.Tokens);
            var backward = BlockPartials.AccumulateBackward(Rows, Block, Heads, Options, QueryGradient!, gradients, Precision);
            return new ComputeOutcome(Step, Origin, false, backward, IssuedAt, started, Stopwatch.GetTimestamp()) { Gradients = gradients, ContributionOnly = ContributionOnly };
        }

        var work = BlockPartials.AccumulateForward(Queries, Block, Heads, Options, Into!, Precision);
        var finished = Stopwatch.GetTimestamp();
        double? exact = CountsExactFlops ? PairCounting.Flops(Options, Heads, Queries.Positions, Block.Positions) : null;
        return new ComputeOutcome(Step, Origin, false, work, IssuedAt, started, finished, exact);
    }
}

/// <summary>
/// What a compute worker reports for one ticket: skipped or the work done, and Stopwatch timestamps. <see cref="ExactFlops"/>
/// is the FLOPs of the pairs the mask allows (see <see cref="PairCounting"/>) when the job runs in virtual time, else null.
/// </summary>
public sealed record ComputeOutcome(int Step, int Origin, bool Skipped, BlockWork Work, long IssuedAt, long StartedAt, long FinishedAt, double? ExactFlops = null)
    : Akka.Actor.INoSerializationVerificationNeeded
{
    /// <summary>The backward only: the block's dK/dV contribution for its home (empty arrays when the pair was skipped).</summary>
    public KeyValueGradients? Gradients { get; init; }

    /// <summary>A contribution-only ticket's outcome (recomputed for a re-created home): not a step of the ring.</summary>
    public bool ContributionOnly { get; init; }
}
