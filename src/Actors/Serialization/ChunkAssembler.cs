namespace RingActors.Actors.Serialization;

/// <summary>What <see cref="ChunkAssembler.Accept(BlockChunk, TimeSpan)"/> did with a chunk.</summary>
public enum ChunkStatus
{
    /// <summary>Stored; the transfer still misses chunks.</summary>
    Pending,

    /// <summary>The last missing chunk: <see cref="ChunkResult.Payload"/> is the whole payload.</summary>
    Completed,

    /// <summary>A chunk already received with the same bytes, or one of a transfer already completed; ignored.</summary>
    Duplicate,

    /// <summary>A chunk of a transfer refused, aborted or expired before; ignored (its refusal was reported once, then).</summary>
    Dropped,

    /// <summary>Inconsistent, over a cap, or over the receiver's budget; the transfer is aborted (see <see cref="ChunkResult.Reason"/>).</summary>
    Refused,
}

/// <summary>The outcome of one chunk: its status, the payload once complete, and why it was refused.</summary>
public readonly record struct ChunkResult(ChunkStatus Status, long TransferId, byte[]? Payload = null, string? Reason = null);

/// <summary>
/// Reassembles the payloads one sender (one link) sends as <see cref="BlockChunk"/>s, arriving in any order. A chunk that
/// disagrees with its transfer (another count or total, an index out of range, a length the layout does not give, a duplicate
/// index with other bytes) aborts the whole transfer, and later chunks of it are dropped: a payload is delivered intact or
/// not at all.
/// <para>
/// Memory is taken as chunks arrive, never for what a transfer declares: each chunk's bytes are kept as they came (no copy)
/// and charged to a <see cref="TransferBudget"/>, with <see cref="ChunkOverheadBytes"/> for its bookkeeping; the payload is
/// allocated and copied once, when the last chunk is in. A chunk that does not fit the budget aborts its transfer. The budget
/// is shared by every link of a receiver (<see cref="WireInbox"/>), so the bound holds per receiver. At most
/// <see cref="MaxConcurrentTransfers"/> transfers of at most <see cref="MaxTransferBytes"/> each are pending at once, and
/// <see cref="Expire"/> frees those that stopped making progress. Not thread-safe: one owner (an actor) uses it.
/// </para>
/// The chunks' bytes must not be reused by the caller until their transfer completed or was dropped.
/// </summary>
public sealed class ChunkAssembler
{
    /// <summary>Bytes charged for each chunk held, besides its payload: its frame's header and its entry in the transfer.</summary>
    public const int ChunkOverheadBytes = 64;

    /// <summary>Bytes charged for each pending transfer, besides its chunks: its bookkeeping.</summary>
    public const int TransferOverheadBytes = 256;

    /// <summary>How many finished transfer ids are remembered so their stragglers are not taken for a new transfer.</summary>
    private const int FinishedMemory = 256;

    private readonly Dictionary<long, Transfer> _transfers = [];

    /// <summary>Finished transfers: true if aborted (stragglers dropped), false if completed (stragglers are duplicates).</summary>
    private readonly Dictionary<long, bool> _finished = [];
    private readonly Queue<long> _finishedOrder = new();

    /// <param name="budget">What the transfers may hold, shared with the receiver's other links; null: only the caps on size and count bound them.</param>
    public ChunkAssembler(int maxTransferBytes, int maxConcurrentTransfers, TransferBudget? budget = null)
    {
        if (maxTransferBytes < 0)
        {
            throw new ArgumentException($"max transfer bytes must be ≥ 0, got {maxTransferBytes}", nameof(maxTransferBytes));
        }

        if (maxConcurrentTransfers <= 0)
        {
            throw new ArgumentException($"max concurrent transfers must be ≥ 1, got {maxConcurrentTransfers}", nameof(maxConcurrentTransfers));
        }

        MaxTransferBytes = maxTransferBytes;
        MaxConcurrentTransfers = maxConcurrentTransfers;
        Budget = budget ?? new TransferBudget(long.MaxValue);
    }

    /// <summary>An assembler with the caps of <paramref name="settings"/>, charging <paramref name="budget"/> (its own max-inbox-bytes when null).</summary>
    public static ChunkAssembler For(TransportSettings settings, TransferBudget? budget = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new(settings.MaxTransferBytes, settings.MaxConcurrentTransfers, budget ?? new TransferBudget(settings.MaxInboxBytes));
    }

    public int MaxTransferBytes { get; }

    public int MaxConcurrentTransfers { get; }

    public TransferBudget Budget { get; }

    /// <summary>Transfers started and not yet completed, aborted or expired.</summary>
    public int PendingTransfers => _transfers.Count;

    /// <summary>Bytes this assembler's pending transfers hold (charged to <see cref="Budget"/>).</summary>
    public long HeldBytes { get; private set; }

    /// <summary>Stores <paramref name="chunk"/> as received at time zero: for an owner that never calls <see cref="Expire"/>.</summary>
    public ChunkResult Accept(BlockChunk chunk) => Accept(chunk, TimeSpan.Zero);

    /// <summary>Stores <paramref name="chunk"/>, received at <paramref name="now"/>; returns the payload when it was the last one missing.</summary>
    public ChunkResult Accept(BlockChunk chunk, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        var id = chunk.TransferId;
        if (_finished.TryGetValue(id, out var aborted))
        {
            return new ChunkResult(aborted ? ChunkStatus.Dropped : ChunkStatus.Duplicate, id);
        }

        if (!_transfers.TryGetValue(id, out var transfer))
        {
            var refusal = CheckNewTransfer(chunk);
            if (refusal is not null)
            {
                return Refuse(id, refusal);
            }

            if (!Budget.TryTake(TransferOverheadBytes))
            {
                return Refuse(id, OverBudget(TransferOverheadBytes));
            }

            transfer = new Transfer(chunk.TotalBytes, chunk.Count) { HeldBytes = TransferOverheadBytes };
            HeldBytes += TransferOverheadBytes;
            _transfers.Add(id, transfer);
        }
        else if (chunk.Count != transfer.Count || chunk.TotalBytes != transfer.TotalBytes)
        {
            return Refuse(id, $"chunk {chunk.Index} says {chunk.Count} chunks of {chunk.TotalBytes} bytes, the transfer has {transfer.Count} of {transfer.TotalBytes}");
        }

        if (chunk.Index < 0 || chunk.Index >= transfer.Count)
        {
            return Refuse(id, $"chunk index {chunk.Index} outside [0, {transfer.Count})");
        }

        var length = BlockChunker.Slice(transfer.TotalBytes, transfer.Count, chunk.Index).Length;
        if (chunk.Bytes.Length != length)
        {
            return Refuse(id, $"chunk {chunk.Index} holds {chunk.Bytes.Length} bytes, the layout gives {length}");
        }

        if (transfer.Parts.TryGetValue(chunk.Index, out var held))
        {
            return chunk.Bytes.Span.SequenceEqual(held.Span)
                ? new ChunkResult(ChunkStatus.Duplicate, id)
                : Refuse(id, $"chunk {chunk.Index} arrived twice with different bytes");
        }

        var charge = (long)length + ChunkOverheadBytes;
        if (!Budget.TryTake(charge))
        {
            return Refuse(id, OverBudget(charge));
        }

        transfer.Parts.Add(chunk.Index, chunk.Bytes);
        transfer.HeldBytes += charge;
        transfer.LastChunkAt = now;
        HeldBytes += charge;
        if (transfer.Parts.Count < transfer.Count)
        {
            return new ChunkResult(ChunkStatus.Pending, id);
        }

        var payload = new byte[transfer.TotalBytes];
        for (var index = 0; index < transfer.Count; index++)
        {
            var (offset, _) = BlockChunker.Slice(transfer.TotalBytes, transfer.Count, index);
            transfer.Parts[index].Span.CopyTo(payload.AsSpan(offset));
        }

        Drop(id, transfer);
        Remember(id, aborted: false);
        return new ChunkResult(ChunkStatus.Completed, id, payload);
    }

    /// <summary>Drops a transfer (e.g. its sender left), frees what it holds and drops its later chunks; false if it was not pending.</summary>
    public bool Abort(long transferId)
    {
        var pending = _transfers.TryGetValue(transferId, out var transfer);
        if (pending)
        {
            Drop(transferId, transfer!);
        }

        Remember(transferId, aborted: true);
        return pending;
    }

    /// <summary>
    /// Aborts every pending transfer whose last chunk arrived at or before <paramref name="idleSince"/> (its sender stopped, or
    /// never meant to finish); returns how many and the bytes they held.
    /// </summary>
    public (int Transfers, long Bytes) Expire(TimeSpan idleSince)
    {
        var stale = _transfers.Where(pair => pair.Value.LastChunkAt <= idleSince).ToList();
        var bytes = stale.Sum(pair => pair.Value.HeldBytes);
        foreach (var (id, _) in stale)
        {
            Abort(id);
        }

        return (stale.Count, bytes);
    }

    private string? CheckNewTransfer(BlockChunk chunk)
    {
        if (chunk.TotalBytes < 0 || chunk.TotalBytes > MaxTransferBytes)
        {
            return $"transfer of {chunk.TotalBytes} bytes outside [0, max-transfer-bytes = {MaxTransferBytes}]";
        }

        if (!BlockChunker.IsValidLayout(chunk.TotalBytes, chunk.Count))
        {
            return $"{chunk.Count} chunks cannot hold {chunk.TotalBytes} bytes without an empty chunk";
        }

        if (_transfers.Count >= MaxConcurrentTransfers)
        {
            return $"{_transfers.Count} transfers already pending from this sender (max-concurrent-transfers = {MaxConcurrentTransfers})";
        }

        return null;
    }

    private string OverBudget(long bytes) =>
        $"{bytes} more bytes would exceed the receiver's budget: {Budget.HeldBytes} of max-inbox-bytes = {Budget.MaxBytes} held by partial transfers";

    private ChunkResult Refuse(long id, string reason)
    {
        Abort(id);
        return new ChunkResult(ChunkStatus.Refused, id, Reason: reason);
    }

    private void Drop(long id, Transfer transfer)
    {
        _transfers.Remove(id);
        Budget.Release(transfer.HeldBytes);
        HeldBytes -= transfer.HeldBytes;
    }

    private void Remember(long id, bool aborted)
    {
        if (_finished.TryAdd(id, aborted))
        {
            _finishedOrder.Enqueue(id);
            if (_finishedOrder.Count > FinishedMemory)
            {
                _finished.Remove(_finishedOrder.Dequeue());
            }
        }
        else
        {
            _finished[id] = aborted;
        }
    }

    /// <summary>A pending transfer. Its chunks are kept by index as they came, so the first one costs its own size, not the declared total.</summary>
    private sealed class Transfer(int totalBytes, int count)
    {
        public int TotalBytes { get; } = totalBytes;

        public int Count { get; } = count;

        public Dictionary<int, ReadOnlyMemory<byte>> Parts { get; } = [];

        public long HeldBytes { get; set; }

        public TimeSpan LastChunkAt { get; set; }
    }
}
