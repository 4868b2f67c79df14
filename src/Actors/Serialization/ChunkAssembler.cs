using System.Collections;

namespace RingActors.Actors.Serialization;

/// <summary>What <see cref="ChunkAssembler.Accept"/> did with a chunk.</summary>
public enum ChunkStatus
{
    /// <summary>Stored; the transfer still misses chunks.</summary>
    Pending,

    /// <summary>The last missing chunk: <see cref="ChunkResult.Payload"/> is the whole payload.</summary>
    Completed,

    /// <summary>A chunk already received with the same bytes, or one of a transfer already completed; ignored.</summary>
    Duplicate,

    /// <summary>Inconsistent, over a cap, or of an aborted transfer; the transfer is aborted (see <see cref="ChunkResult.Reason"/>).</summary>
    Refused,
}

/// <summary>The outcome of one chunk: its status, the payload once complete, and why it was refused.</summary>
public readonly record struct ChunkResult(ChunkStatus Status, long TransferId, byte[]? Payload = null, string? Reason = null);

/// <summary>
/// Reassembles payloads from <see cref="BlockChunk"/>s arriving in any order. A chunk that disagrees with its transfer
/// (another count or total, an index out of range, a length the layout does not give, a duplicate index with other bytes)
/// aborts the whole transfer, and later chunks of it are refused: a payload is delivered intact or not at all.
/// At most <see cref="MaxConcurrentTransfers"/> transfers of at most <see cref="MaxTransferBytes"/> each are held, so the
/// memory a sender can make this allocate is bounded by their product. Not thread-safe: one owner (an actor) uses it.
/// </summary>
public sealed class ChunkAssembler
{
    /// <summary>How many finished transfer ids are remembered so their stragglers are not taken for a new transfer.</summary>
    private const int FinishedMemory = 1024;

    private readonly Dictionary<long, Transfer> _transfers = [];

    /// <summary>Finished transfers: true if aborted (stragglers refused), false if completed (stragglers are duplicates).</summary>
    private readonly Dictionary<long, bool> _finished = [];
    private readonly Queue<long> _finishedOrder = new();

    public ChunkAssembler(int maxTransferBytes, int maxConcurrentTransfers)
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
    }

    public static ChunkAssembler For(TransportSettings settings) => new(settings.MaxTransferBytes, settings.MaxConcurrentTransfers);

    public int MaxTransferBytes { get; }

    public int MaxConcurrentTransfers { get; }

    /// <summary>Transfers started and not yet completed or aborted.</summary>
    public int PendingTransfers => _transfers.Count;

    /// <summary>Stores <paramref name="chunk"/>; returns the payload when it was the last one missing.</summary>
    public ChunkResult Accept(BlockChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        var id = chunk.TransferId;
        if (_finished.TryGetValue(id, out var aborted))
        {
            return aborted
                ? new ChunkResult(ChunkStatus.Refused, id, Reason: $"transfer {id} was aborted")
                : new ChunkResult(ChunkStatus.Duplicate, id);
        }

        if (!_transfers.TryGetValue(id, out var transfer))
        {
            var refusal = CheckNewTransfer(chunk);
            if (refusal is not null)
            {
                return Refuse(id, refusal);
            }

            transfer = new Transfer(chunk.TotalBytes, chunk.Count);
            _transfers.Add(id, transfer);
        }
        else if (chunk.Count != transfer.Count || chunk.TotalBytes != transfer.Payload.Length)
        {
            return Refuse(id, $"chunk {chunk.Index} says {chunk.Count} chunks of {chunk.TotalBytes} bytes, the transfer has {transfer.Count} of {transfer.Payload.Length}");
        }

        if (chunk.Index < 0 || chunk.Index >= transfer.Count)
        {
            return Refuse(id, $"chunk index {chunk.Index} outside [0, {transfer.Count})");
        }

        var (offset, length) = BlockChunker.Slice(transfer.Payload.Length, transfer.Count, chunk.Index);
        if (chunk.Bytes.Length != length)
        {
            return Refuse(id, $"chunk {chunk.Index} holds {chunk.Bytes.Length} bytes, the layout gives {length}");
        }

        var target = transfer.Payload.AsSpan(offset, length);
        if (transfer.Received[chunk.Index])
        {
            return chunk.Bytes.Span.SequenceEqual(target)
                ? new ChunkResult(ChunkStatus.Duplicate, id)
                : Refuse(id, $"chunk {chunk.Index} arrived twice with different bytes");
        }

        chunk.Bytes.Span.CopyTo(target);
        transfer.Received[chunk.Index] = true;
        transfer.Missing--;
        if (transfer.Missing > 0)
        {
            return new ChunkResult(ChunkStatus.Pending, id);
        }

        _transfers.Remove(id);
        Remember(id, aborted: false);
        return new ChunkResult(ChunkStatus.Completed, id, transfer.Payload);
    }

    /// <summary>Drops a transfer (e.g. its sender left) and refuses its later chunks; false if it was not pending.</summary>
    public bool Abort(long transferId)
    {
        var pending = _transfers.Remove(transferId);
        Remember(transferId, aborted: true);
        return pending;
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
            return $"{_transfers.Count} transfers already pending (max-concurrent-transfers = {MaxConcurrentTransfers})";
        }

        return null;
    }

    private ChunkResult Refuse(long id, string reason)
    {
        Abort(id);
        return new ChunkResult(ChunkStatus.Refused, id, Reason: reason);
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

    private sealed class Transfer(int totalBytes, int count)
    {
        public byte[] Payload { get; } = new byte[totalBytes];

        public int Count { get; } = count;

        public BitArray Received { get; } = new(count);

        public int Missing { get; set; } = count;
    }
}
