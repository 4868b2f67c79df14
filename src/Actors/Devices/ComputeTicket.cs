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
    internal ComputeTicket(int device, int step, int origin, QueryChunk queries, KeyValueBlock block, AttentionHeads heads, AttentionOptions options, PartialAttention into, long issuedAt)
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

    public PartialAttention Into { get; }

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

        if (BlockSkipping.IsEmpty(Options, Heads, Queries.Positions, Block.Positions))
        {
            return new ComputeOutcome(Step, Origin, true, new BlockWork(0, 0, 0, Heads.HeadDim), IssuedAt, started, Stopwatch.GetTimestamp(), CountsExactFlops ? 0 : null);
        }

        if (Phantom)
        {
            var pairs = PairCounting.AllowedPairs(Options, Heads, Queries.Positions, Block.Positions);
            var phantomWork = new BlockWork(pairs, 0, 0, Heads.HeadDim);
            return new ComputeOutcome(Step, Origin, false, phantomWork, IssuedAt, started, Stopwatch.GetTimestamp(), phantomWork.Flops);
        }

        var work = BlockwiseAttention.Accumulate(Queries, Block, Heads, Options, Into);
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
    : Akka.Actor.INoSerializationVerificationNeeded;
