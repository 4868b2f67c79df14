using System.Diagnostics;
using RingActors.Actors.Protocol;
using RingActors.Math;
using static RingActors.Actors.Protocol.LinkProtocol;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors.Devices;

/// <summary>Where a device is in its job.</summary>
public enum DevicePhase
{
    /// <summary>The chunk is loaded; the ring has not started.</summary>
    Ready,

    /// <summary>Blocks are arriving, being handed on and computed.</summary>
    Running,

    /// <summary>All P blocks are merged; the result can be taken.</summary>
    Completed,
}

/// <summary>What became of a block a device received.</summary>
public enum AdmissionKind
{
    /// <summary>Held for its step (now or later) and queued to be handed on.</summary>
    Accepted,

    /// <summary>A block of a step already seen: dropped, nothing changes.</summary>
    Duplicate,

    /// <summary>Not of this job, or malformed, or sent without a credit: refused and not merged.</summary>
    Refused,
}

/// <summary>The decision on one received block, with the reason when it was refused or dropped.</summary>
public readonly record struct BlockAdmission(AdmissionKind Kind, string Reason = "")
{
    public static readonly BlockAdmission Accepted = new(AdmissionKind.Accepted);
}

/// <summary>
/// A device's state, kept outside the actor so it can be tested without one. It holds the query chunk, the running partial
/// result and the key/value blocks it has, decides which block is handed on next and which is computed next, and counts.
/// <para>
/// Order: blocks are computed in step order 0, 1, …, P−1; a block that arrives before its step is held until its turn; a block
/// of a step already seen is a duplicate and is dropped. Hand-offs go in arrival order as credits allow, never waiting for compute.
/// </para>
/// <para>
/// Memory (credit-based flow control): the device holds at most <see cref="DeviceSetup.MaxBlocksHeld"/> blocks (2: the one it
/// computes on and the next). A block is held from its arrival until it has been both computed and handed on. The predecessor may
/// send only against a credit; credits go out when held blocks plus credits in the predecessor's hands are below the limit, so
/// held + outstanding ≤ limit at all times and a slow device slows its predecessor instead of growing its memory. Every device
/// starts holding its own block, so each one starts with min(limit − 1, P − 1) credits towards its successor without a message.
/// </para>
/// <para>
/// Recovery: a device re-created after a crash (<see cref="Recovering"/>) is the same state in another mode. Its previous
/// partial died with it, so it holds every one of the P blocks (from the supervisor) and recomputes its chunk over all of
/// them; it hands on only what its successor does not hold yet, which it learns from the successor's
/// <see cref="LinkResume"/>, and it needs nothing from its predecessor. The same <see cref="Resume"/> serves a healthy device
/// whose successor was re-created: hand-offs of steps the new successor holds are dropped, credits start again from its word.
/// </para>
/// Timestamps are <see cref="Stopwatch.GetTimestamp"/> values passed in by the caller, so tests can drive the clock.
/// </summary>
public sealed class DeviceState
{
    private readonly RingTopology _topology;
    private readonly QueryChunk _queries;
    private readonly PartialAttention? _partial;
    private readonly BackwardRows? _rows;
    private readonly float[]? _queryGradient;
    private readonly Dictionary<int, HeldBlock> _held = [];
    private readonly Queue<HeldBlock> _handOffs = new();
    private readonly bool[] _seen;
    private readonly bool[] _done;
    private readonly List<(long Start, long End)> _busyIntervals = [];
    private readonly List<(long ReadySince, long Accepted)> _arrivals = [];
    private readonly HashSet<int> _waitingForCredit = [];
    private readonly HashSet<int> _successorHolds = [];
    private bool _awaitingResume;
    private readonly long _fixedBytes;
    private int _nextStep;
    private HeldBlock? _computing;
    private int _credits;
    private int _outstanding;
    private long _sequence;
    private long _heldBytes;
    private long _waitingSince;
    private long _waitingTicks;
    private long _computeTicks;
    private long _queueTicks;
    private int _blocksComputed;
    private int _blocksSkipped;
    private BlockWork _work;
    private long _pairsLeft;
    private long _bytesSent;
    private long _bytesReceived;
    private int _handOffsSent;
    private int _handOffsReceived;
    private int _delayedByCredit;
    private long _peakResidentBytes;
    private int _peakBlocksHeld;
    private int _duplicates;
    private int _refused;

    /// <summary>Loads a device with its query chunk [B, H, n_q, d] and its own key/value block [B, Hkv, n_k, d].</summary>
    public DeviceState(DeviceSetup setup, QueryChunk queries, KeyValueBlock ownBlock)
        : this(setup, queries, ownBlock, null)
    {
    }

    private DeviceState(DeviceSetup setup, QueryChunk queries, KeyValueBlock ownBlock, BackwardRows? rows)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(ownBlock);
        Setup = setup.Validate();
        _topology = setup.Topology;
        var heads = setup.Heads;
        if (!(setup.Phantom && queries.Data.Length == 0) && queries.Data.Length != (long)heads.Batch * heads.Heads * queries.Tokens * heads.HeadDim)
        {
            throw new ArgumentException(
                $"query chunk holds {queries.Data.Length} values, [{heads.Batch},{heads.Heads},{queries.Tokens},{heads.HeadDim}] needs {(long)heads.Batch * heads.Heads * queries.Tokens * heads.HeadDim}",
                nameof(queries));
        }

        if (CheckBlock(ownBlock.Keys, ownBlock.Values, ownBlock.Positions) is { } problem)
        {
            throw new ArgumentException($"own block: {problem}", nameof(ownBlock));
        }

        if (queries.Positions.Any(p => (uint)p >= (uint)setup.SeqLen))
        {
            throw new ArgumentException($"query positions must lie in 0..{setup.SeqLen - 1}", nameof(queries));
        }

        _queries = queries;
        _rows = rows;
        _pairsLeft = PairCounting.PairsBound(setup.Options.Causal, setup.SeqLen, queries.Positions) * setup.Heads.Batch * setup.Heads.Heads;
        Pass = rows is null ? RingPass.Forward : RingPass.Backward;
        _seen = new bool[_topology.Devices];
        _done = new bool[_topology.Devices];
        if (rows is null)
        {
            _partial = new PartialAttention(heads.Batch, heads.Heads, setup.Phantom ? 0 : queries.Tokens, heads.HeadDim);
            _fixedBytes = ((long)queries.Data.Length * sizeof(float)) + _partial.Bytes;
        }
        else
        {
            // The backward keeps Q, dO, dQ, lse and D of its rows, and the dK/dV sums of its own block (GradientHome).
            _queryGradient = new float[queries.Data.Length];
            _fixedBytes = ((3L * queries.Data.Length) + rows.Lse.Length + rows.Delta.Length + ownBlock.Keys.Length + ownBlock.Values.Length) * sizeof(float);
        }
        var own = new HeldBlock(0, setup.Device, ownBlock, 0, 0);
        _held[0] = own;
        _heldBytes = own.Block.PayloadBytes;
        _seen[0] = true;
        NotePeak();
    }

    /// <summary>
    /// A re-created device (epoch ≥ 1): its query chunk and all P blocks in step order (block s is the one of device
    /// (r − s) mod P), running from <paramref name="now"/>; its hand-offs wait for the successor's <see cref="Resume"/> when P &gt; 1.
    /// </summary>
    public static DeviceState Recovering(DeviceSetup setup, QueryChunk queries, IReadOnlyList<KeyValueBlock> blocks, long now)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(blocks);
        if (blocks.Count != setup.Devices)
        {
            throw new ArgumentException($"device {setup.Device} needs all {setup.Devices} blocks to recover, got {blocks.Count}", nameof(blocks));
        }

        var state = new DeviceState(setup, queries, blocks[0]);
        state.Start(now);
        state.Recover(blocks, now);
        return state;
    }

    /// <summary>
    /// The backward pass of a device whose forward is complete: the same ring over the same blocks (its own first), each step
    /// adding the block's dQ contribution to <see cref="QueryGradient"/> and producing the block's dK/dV contribution
    /// (<see cref="ComputeOutcome.Gradients"/>) for its home. <paramref name="rows"/> holds Q, dO and the forward's global lse.
    /// </summary>
    public static DeviceState Backward(DeviceSetup setup, BackwardRows rows, KeyValueBlock ownBlock)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return new DeviceState(setup, rows.Queries, ownBlock, rows);
    }

    /// <summary>A device re-created during the backward: all P blocks in step order, recomputed from <paramref name="now"/>, as <see cref="Recovering"/>.</summary>
    public static DeviceState RecoveringBackward(DeviceSetup setup, BackwardRows rows, IReadOnlyList<KeyValueBlock> blocks, long now)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(blocks);
        if (blocks.Count != setup.Devices)
        {
            throw new ArgumentException($"device {setup.Device} needs all {setup.Devices} blocks to recover, got {blocks.Count}", nameof(blocks));
        }

        var state = new DeviceState(setup, rows.Queries, blocks[0], rows);
        state.Start(now);
        state.Recover(blocks, now);
        return state;
    }

    /// <summary>Which pass of the job this state runs: its blocks, credits and hand-offs are that pass's.</summary>
    public RingPass Pass { get; }

    /// <summary>The backward's dQ of the chunk so far [B, H, n_q, d]; only in the backward, final once complete.</summary>
    public float[] QueryGradient => _queryGradient ?? throw new InvalidOperationException($"device {Device} runs the forward: it has no dQ");

    /// <summary>The backward's rows (Q, dO, lse, D); only in the backward.</summary>
    public BackwardRows Rows => _rows ?? throw new InvalidOperationException($"device {Device} runs the forward: it has no backward rows");

    public DeviceSetup Setup { get; }

    /// <summary>Whether this is a re-created device, which holds every block and recomputes them all.</summary>
    public bool IsRecovering { get; private set; }

    public string JobId => Setup.JobId;

    public int Device => Setup.Device;

    public DevicePhase Phase { get; private set; } = DevicePhase.Ready;

    /// <summary>Key/value blocks held now (computing, waiting for their step, or waiting to be handed on).</summary>
    public int BlocksHeld => _held.Count;

    /// <summary>Blocks the device may still send to its successor.</summary>
    public int Credits => _credits;

    /// <summary>Blocks the predecessor may still send to this device.</summary>
    public int CreditsOutstanding => _outstanding;

    /// <summary>
    /// Whether the device waits on its successor's word: hand-offs queued without a credit, or (re-created) the successor's
    /// resume. The device then asks again after a while, in case that word was lost on the way.
    /// </summary>
    public bool WaitsForSuccessor => Phase == DevicePhase.Running && (_awaitingResume || (_handOffs.Count > 0 && _credits == 0));

    /// <summary>Whether a re-created device still waits for its successor to say what it holds.</summary>
    public bool AwaitsResume => _awaitingResume;

    /// <summary>Blocks handed on so far.</summary>
    public int HandOffsSent => _handOffsSent;

    /// <summary>Blocks waiting for a credit to be handed on.</summary>
    public int PendingHandOffs => _handOffs.Count;

    /// <summary>Steps computed (or skipped) so far.</summary>
    public int StepsDone => _done.Count(d => d);

    /// <summary>Whether a ticket is out with the compute worker.</summary>
    public bool IsComputing => _computing is not null;

    /// <summary>Whether step <paramref name="step"/> has been computed (or skipped).</summary>
    public bool IsDone(int step) => _done[step];

    /// <summary>Bytes resident now: Q, held K/V blocks, partial output and lse.</summary>
    public long ResidentBytes => _fixedBytes + _heldBytes;

    /// <summary>Every step computed and every block that goes on handed on.</summary>
    public bool IsComplete => Phase == DevicePhase.Completed;

    /// <summary>Starts the ring: the own block is step 0, to compute now and to hand on (when P &gt; 1).</summary>
    public void Start(long now)
    {
        if (Phase != DevicePhase.Ready)
        {
            throw new InvalidOperationException($"device {Device} of job {JobId} is already {Phase}");
        }

        Phase = DevicePhase.Running;
        _waitingSince = now;
        var own = _held[0];
        _held[0] = own with { ReadySince = now, AcceptedAt = now };
        if (_topology.PassesOn(0))
        {
            _handOffs.Enqueue(_held[0]);
            _credits = InitialCredits;
            _outstanding = InitialCredits;
        }
    }

    /// <summary>
    /// The successor (re-created, or answering this device's re-created incarnation) holds its steps <paramref name="stepsHeld"/>
    /// and lets this device send <paramref name="credits"/> blocks: hand-offs of those steps are dropped (queued ones now,
    /// later ones on arrival), and the credits replace the ones given before (which were for another incarnation).
    /// </summary>
    public void Resume(int credits, IReadOnlyCollection<int> stepsHeld)
    {
        ArgumentNullException.ThrowIfNull(stepsHeld);
        if (credits < 0)
        {
            throw new ArgumentException($"credits must be ≥ 0, got {credits}", nameof(credits));
        }

        foreach (var step in stepsHeld)
        {
            _successorHolds.Add(step);
        }

        _credits = credits;
        var queued = _handOffs.ToList();
        _handOffs.Clear();
        foreach (var block in queued)
        {
            if (_successorHolds.Contains(block.Step + 1))
            {
                SkipHandOff(block);
            }
            else
            {
                _handOffs.Enqueue(block);
            }
        }

        if (_awaitingResume)
        {
            // A re-created device hands on, in step order, what the successor still needs of the blocks it was given.
            _awaitingResume = false;
            foreach (var block in _held.Values.OrderBy(b => b.Step).ToList())
            {
                if (!_topology.PassesOn(block.Step))
                {
                    continue;
                }

                if (_successorHolds.Contains(block.Step + 1))
                {
                    SkipHandOff(block);
                }
                else
                {
                    _handOffs.Enqueue(block);
                }
            }
        }

        UpdatePhase();
    }

    /// <summary>
    /// What this device tells a re-created predecessor (<see cref="LinkResume"/>): the steps whose block it holds or has
    /// merged, and the credits it has given out and not seen used (the new incarnation may use them).
    /// </summary>
    public (int Credits, IReadOnlyList<int> StepsHeld) ResumeForPredecessor()
    {
        if (IsRecovering)
        {
            // It needs nothing from its predecessor: all of its blocks came from the supervisor.
            return (_topology.Devices, Enumerable.Range(1, _topology.Devices - 1).ToList());
        }

        return (_outstanding, Enumerable.Range(1, _topology.Devices - 1).Where(s => _seen[s]).ToList());
    }

    /// <summary>Decides what to do with a block from the predecessor; an accepted block is held and queued to be handed on.</summary>
    public BlockAdmission Admit(AcceptBlock block, long now)
    {
        ArgumentNullException.ThrowIfNull(block);
        if (block.JobId != JobId)
        {
            return Refuse($"block of job '{block.JobId}', this device runs job '{JobId}'");
        }

        if (Phase == DevicePhase.Ready)
        {
            return Refuse("the ring has not started on this device");
        }

        if (block.Pass != Pass)
        {
            return Refuse($"a block of the {block.Pass} pass; this device runs the {Pass}");
        }

        if (block.Step < 1 || block.Step >= _topology.Devices)
        {
            return Refuse($"step {block.Step} is outside 1..{_topology.Devices - 1}");
        }

        var expectedOrigin = _topology.OriginAt(Device, block.Step);
        if (block.Origin != expectedOrigin)
        {
            return Refuse($"at step {block.Step} device {Device} expects the block of device {expectedOrigin}, got device {block.Origin}'s");
        }

        if (CheckBlock(block.Keys, block.Values, block.Positions) is { } problem)
        {
            return Refuse(problem);
        }

        if (_seen[block.Step])
        {
            // A copy of a block already seen: if it came against a credit, that credit is spent and is given back by the next grant.
            _duplicates++;
            _outstanding = System.Math.Max(0, _outstanding - 1);
            return new BlockAdmission(AdmissionKind.Duplicate, $"step {block.Step} (block of device {block.Origin}) already received");
        }

        if (_outstanding == 0)
        {
            return Refuse($"no credit outstanding: the predecessor sent a block while {_held.Count} of {Setup.MaxBlocksHeld} are held");
        }

        _outstanding--;
        _seen[block.Step] = true;
        var held = new HeldBlock(block.Step, block.Origin, new KeyValueBlock(block.Keys, block.Values, block.Positions), block.ReadySince, now);
        _held[block.Step] = held;
        _heldBytes += held.Block.PayloadBytes;
        _handOffsReceived++;
        _bytesReceived += held.Block.PayloadBytes;
        _arrivals.Add((block.ReadySince, now));
        if (_topology.PassesOn(block.Step))
        {
            if (_successorHolds.Contains(block.Step + 1))
            {
                SkipHandOff(held);
            }
            else
            {
                _handOffs.Enqueue(held);
            }
        }

        NotePeak();
        return BlockAdmission.Accepted;
    }

    /// <summary>The successor granted <paramref name="credits"/> more sends.</summary>
    public void AddCredits(int credits)
    {
        if (credits < 1)
        {
            throw new ArgumentException($"credits must be ≥ 1, got {credits}", nameof(credits));
        }

        _credits += credits;
    }

    /// <summary>Takes the next block to hand on if a credit allows; the block carries the successor's step (this step + 1).</summary>
    public bool TryTakeHandOff(out AcceptBlock handOff)
    {
        if (_handOffs.Count == 0)
        {
            handOff = null!;
            return false;
        }

        if (_credits == 0)
        {
            // The device wants to hand this block on and may not: it waits for the successor to release one.
            _waitingForCredit.Add(_handOffs.Peek().Step);
            handOff = null!;
            return false;
        }

        var block = _handOffs.Dequeue();
        _credits--;
        if (_waitingForCredit.Remove(block.Step))
        {
            _delayedByCredit++;
        }

        handOff = new AcceptBlock(JobId, block.Origin, block.Step + 1, _sequence++, block.AcceptedAt, block.Block.Keys, block.Block.Values, block.Block.Positions, Pass: Pass);
        _handOffsSent++;
        _bytesSent += block.Block.PayloadBytes;
        var current = _held[block.Step] with { HandedOn = true };
        _held[block.Step] = current;
        TryRelease(current);
        UpdatePhase();
        return true;
    }

    /// <summary>
    /// Credits to send to the predecessor now (0 when none): as many as free slots allow, but never more than blocks still to come.
    /// </summary>
    public int TakeCreditGrant()
    {
        if (Phase != DevicePhase.Running || _topology.Devices == 1 || IsRecovering)
        {
            return 0;
        }

        var stillToCome = _topology.Devices - 1 - _handOffsReceived - _outstanding;
        var free = Setup.MaxBlocksHeld - _held.Count - _outstanding;
        var grant = System.Math.Min(stillToCome, free);
        if (grant <= 0)
        {
            return 0;
        }

        _outstanding += grant;
        return grant;
    }

    /// <summary>Issues the next step's compute if no ticket is out and that step's block is held.</summary>
    public bool TryStartCompute(long now, out ComputeTicket ticket)
    {
        if (Phase != DevicePhase.Running || _computing is not null || _nextStep >= _topology.Devices || !_held.TryGetValue(_nextStep, out var block))
        {
            ticket = null!;
            return false;
        }

        _waitingTicks += System.Math.Max(0, now - _waitingSince);
        _computing = block;
        _nextStep++;
        ticket = new ComputeTicket(Device, block.Step, block.Origin, _queries, block.Block, Setup.Heads, Setup.Options, _partial, now)
        {
            Phantom = Setup.Phantom,
            CountsExactFlops = Setup.VirtualTime is not null,
            Precision = Setup.PartialPrecision,
            Rows = _rows,
            QueryGradient = _queryGradient,
            WorkLeft = WorkLeft,
        };
        return true;
    }

    /// <summary>Query–key pairs this device has still to compute in its pass (an upper bound under a sparse pattern); never negative.</summary>
    public long WorkLeft => System.Math.Max(0, _pairsLeft);

    /// <summary>Records the worker's answer: the step is done, the block is released once handed on too.</summary>
    public void CompleteCompute(ComputeOutcome outcome, long now)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (_computing is null || _computing.Step != outcome.Step)
        {
            throw new InvalidOperationException($"device {Device} got the outcome of step {outcome.Step} but is computing {(_computing is null ? "nothing" : $"step {_computing.Step}")}");
        }

        var block = _held[outcome.Step] with { Computed = true };
        _held[outcome.Step] = block;
        _computing = null;
        _done[outcome.Step] = true;
        _busyIntervals.Add((outcome.IssuedAt, outcome.FinishedAt));
        _computeTicks += outcome.FinishedAt - outcome.StartedAt;
        _queueTicks += System.Math.Max(0, outcome.StartedAt - outcome.IssuedAt);
        if (outcome.Skipped)
        {
            _blocksSkipped++;
        }
        else
        {
            _blocksComputed++;
            _work += outcome.Work;
            _pairsLeft -= outcome.Work.PairsComputed;
        }

        TryRelease(block);
        _waitingSince = now;
        UpdatePhase();
    }

    /// <summary>The device's output [B, H, n_q, d] and lse [B, H, n_q] with its statistics; only once complete.</summary>
    public ChunkCompleted Result()
    {
        if (!IsComplete)
        {
            throw new InvalidOperationException($"device {Device} of job {JobId} has done {_done.Count(d => d)} of {_done.Length} steps");
        }

        if (_partial is null)
        {
            throw new InvalidOperationException($"device {Device} of job {JobId} runs the backward: its result is its gradients");
        }

        return new ChunkCompleted(JobId, Device, _partial.Output, _partial.Lse, Stats());
    }

    /// <summary>Statistics so far (complete once the device is).</summary>
    public DeviceStats Stats()
    {
        var (handOff, hidden) = HandOffOverlap();
        return new DeviceStats(
            Device,
            _queries.Tokens,
            _blocksComputed,
            _blocksSkipped,
            _work.PairsComputed,
            Pass == RingPass.Forward ? _work.Flops : _work.BackwardFlops,
            Ticks(_computeTicks),
            Ticks(_queueTicks),
            Ticks(_waitingTicks),
            _bytesSent,
            _bytesReceived,
            _handOffsSent,
            _handOffsReceived,
            _delayedByCredit,
            _peakResidentBytes,
            _peakBlocksHeld,
            _duplicates,
            _refused,
            Ticks(handOff),
            Ticks(hidden));
    }

    private int InitialCredits => System.Math.Min(Setup.MaxBlocksHeld - 1, _topology.Devices - 1);

    private static TimeSpan Ticks(long stopwatchTicks) => TimeSpan.FromSeconds((double)stopwatchTicks / Stopwatch.Frequency);

    /// <summary>
    /// Hand-off time of the blocks this device received, and the part of it hidden behind this device's compute:
    /// Σ |[ready, accepted]| and Σ |[ready, accepted] ∩ busy intervals|, a busy interval running from a ticket's issue to its
    /// outcome (waiting for a compute thread is compute contention, not communication). The intervals are disjoint: one
    /// ticket at a time.
    /// </summary>
    private (long HandOff, long Hidden) HandOffOverlap()
    {
        long total = 0, hidden = 0;
        foreach (var (ready, accepted) in _arrivals)
        {
            if (accepted <= ready)
            {
                continue;
            }

            total += accepted - ready;
            foreach (var (start, end) in _busyIntervals)
            {
                hidden += System.Math.Max(0, System.Math.Min(end, accepted) - System.Math.Max(start, ready));
            }
        }

        return (total, hidden);
    }

    private BlockAdmission Refuse(string reason)
    {
        _refused++;
        return new BlockAdmission(AdmissionKind.Refused, reason);
    }

    private string? CheckBlock(float[] keys, float[] values, int[] positions)
    {
        var heads = Setup.Heads;
        var expected = (long)heads.Batch * heads.KvHeads * positions.Length * heads.HeadDim;
        var phantom = Setup.Phantom && keys.Length == 0 && values.Length == 0;
        if (!phantom && (keys.Length != expected || values.Length != expected))
        {
            return $"K holds {keys.Length} and V {values.Length} values, [{heads.Batch},{heads.KvHeads},{positions.Length},{heads.HeadDim}] needs {expected} each";
        }

        foreach (var p in positions)
        {
            if ((uint)p >= (uint)Setup.SeqLen)
            {
                return $"position {p} is outside 0..{Setup.SeqLen - 1}";
            }
        }

        return null;
    }

    private void TryRelease(HeldBlock block)
    {
        if (block.Computed && (block.HandedOn || !_topology.PassesOn(block.Step)))
        {
            _held.Remove(block.Step);
            _heldBytes -= block.Block.PayloadBytes;
        }
    }

    /// <summary>Complete once every step is computed and every block that goes on has gone: only then are the statistics final.</summary>
    private void UpdatePhase()
    {
        if (Phase == DevicePhase.Running && !_awaitingResume && _handOffs.Count == 0 && _done.All(d => d))
        {
            Phase = DevicePhase.Completed;
        }
    }

    /// <summary>Loads the other P − 1 blocks of a re-created device; each is held until computed and, if need be, handed on.</summary>
    private void Recover(IReadOnlyList<KeyValueBlock> blocks, long now)
    {
        IsRecovering = true;
        _handOffs.Clear();
        _credits = 0;
        _outstanding = 0;
        _awaitingResume = _topology.Devices > 1;
        for (var step = 1; step < blocks.Count; step++)
        {
            var block = blocks[step];
            if (CheckBlock(block.Keys, block.Values, block.Positions) is { } problem)
            {
                throw new ArgumentException($"block of step {step}: {problem}", nameof(blocks));
            }

            _held[step] = new HeldBlock(step, _topology.OriginAt(Device, step), block, now, now);
            _heldBytes += block.PayloadBytes;
            _seen[step] = true;
        }

        NotePeak();
    }

    /// <summary>The successor already holds this block's next step: it counts as handed on without being sent.</summary>
    private void SkipHandOff(HeldBlock block)
    {
        var current = _held.TryGetValue(block.Step, out var held) ? held with { HandedOn = true } : block with { HandedOn = true };
        if (_held.ContainsKey(block.Step))
        {
            _held[block.Step] = current;
            TryRelease(current);
        }
    }

    private void NotePeak()
    {
        _peakBlocksHeld = System.Math.Max(_peakBlocksHeld, _held.Count);
        _peakResidentBytes = System.Math.Max(_peakResidentBytes, ResidentBytes);
    }

    private sealed record HeldBlock(int Step, int Origin, KeyValueBlock Block, long ReadySince, long AcceptedAt, bool Computed = false, bool HandedOn = false);
}
