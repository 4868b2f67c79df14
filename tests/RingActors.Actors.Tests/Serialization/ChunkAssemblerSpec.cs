using System.Runtime.InteropServices;
using RingActors.Actors.Serialization;

namespace RingActors.Actors.Tests.Serialization;

public class ChunkAssemblerSpec
{
    private const int MaxChunk = 100;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(MaxChunk - 1)]
    [InlineData(MaxChunk)]
    [InlineData(MaxChunk + 1)]
    [InlineData((10 * MaxChunk) + 3)]
    [InlineData(4097)]
    public void ChunkAssembler_must_reassemble_chunks_arriving_in_any_order(int totalBytes)
    {
        var random = new Random(totalBytes);
        var payload = new byte[totalBytes];
        random.NextBytes(payload);
        var chunks = new BlockChunker(MaxChunk).Split(7, payload).ToArray();
        random.Shuffle(chunks);

        var assembler = new ChunkAssembler(maxTransferBytes: 1 << 20, maxConcurrentTransfers: 2);
        var results = chunks.Select(assembler.Accept).ToList();

        Assert.All(results[..^1], result => Assert.Equal(ChunkStatus.Pending, result.Status));
        var last = results[^1];
        Assert.Equal(ChunkStatus.Completed, last.Status);
        Assert.Equal(payload, last.Payload);
        Assert.Equal(0, assembler.PendingTransfers);
    }

    [Fact]
    public void BlockChunker_must_cut_nonempty_chunks_of_at_most_the_maximum_without_copying()
    {
        var random = new Random(31);
        for (var trial = 0; trial < 2000; trial++)
        {
            var max = random.Next(1, 300);
            var total = random.Next(0, 5000);
            var payload = new byte[total];
            var chunks = new BlockChunker(max).Split(trial, payload);

            Assert.Equal(total == 0 ? 1 : (total + max - 1) / max, chunks.Count);
            Assert.True(BlockChunker.IsValidLayout(total, chunks.Count));
            Assert.Equal(total, chunks.Sum(chunk => chunk.Bytes.Length));
            Assert.All(chunks, chunk =>
            {
                Assert.InRange(chunk.Bytes.Length, total == 0 ? 0 : 1, max);
                Assert.True(MemoryMarshal.TryGetArray(chunk.Bytes, out var segment) && ReferenceEquals(segment.Array, payload));
            });
        }
    }

    [Fact]
    public void ChunkAssembler_must_refuse_a_chunk_that_disagrees_on_count_and_abort_its_transfer()
    {
        var chunks = Chunks(1, 250);
        var assembler = new ChunkAssembler(1 << 20, 2);
        Assert.Equal(ChunkStatus.Pending, assembler.Accept(chunks[0]).Status);

        var refused = assembler.Accept(chunks[1] with { Count = 4 });
        Assert.Equal(ChunkStatus.Refused, refused.Status);
        Assert.Contains("says 4 chunks of 250 bytes, the transfer has 3 of 250", refused.Reason);
        Assert.Equal(0, assembler.PendingTransfers);

        // Dropped without a reason of its own: the owner logs the refusal once, not once per straggler.
        var straggler = assembler.Accept(chunks[2]);
        Assert.Equal(ChunkStatus.Dropped, straggler.Status);
        Assert.Null(straggler.Reason);
    }

    [Fact]
    public void ChunkAssembler_must_refuse_a_chunk_that_disagrees_on_the_total()
    {
        var chunks = Chunks(1, 250);
        var assembler = new ChunkAssembler(1 << 20, 2);
        assembler.Accept(chunks[0]);
        var refused = assembler.Accept(chunks[1] with { TotalBytes = 251 });
        Assert.Equal(ChunkStatus.Refused, refused.Status);
        Assert.Contains("3 chunks of 251 bytes, the transfer has 3 of 250", refused.Reason);
    }

    [Fact]
    public void ChunkAssembler_must_refuse_an_index_out_of_range_and_a_length_the_layout_does_not_give()
    {
        var chunks = Chunks(1, 250);
        var outOfRange = new ChunkAssembler(1 << 20, 2).Accept(chunks[0] with { Index = 3 });
        Assert.Contains("chunk index 3 outside [0, 3)", outOfRange.Reason);

        var shortChunk = new ChunkAssembler(1 << 20, 2).Accept(chunks[0] with { Bytes = new byte[83] });
        Assert.Contains("chunk 0 holds 83 bytes, the layout gives 84", shortChunk.Reason);
    }

    [Fact]
    public void ChunkAssembler_must_ignore_an_identical_duplicate_and_refuse_one_with_other_bytes()
    {
        var chunks = Chunks(1, 250);
        var assembler = new ChunkAssembler(1 << 20, 2);
        assembler.Accept(chunks[0]);
        Assert.Equal(ChunkStatus.Duplicate, assembler.Accept(chunks[0] with { Bytes = chunks[0].Bytes.ToArray() }).Status);

        var tampered = chunks[0].Bytes.ToArray();
        tampered[5] ^= 1;
        var refused = assembler.Accept(chunks[0] with { Bytes = tampered });
        Assert.Equal(ChunkStatus.Refused, refused.Status);
        Assert.Contains("chunk 0 arrived twice with different bytes", refused.Reason);
    }

    [Fact]
    public void ChunkAssembler_must_treat_a_chunk_of_a_completed_transfer_as_a_duplicate()
    {
        var chunks = Chunks(1, 150);
        var assembler = new ChunkAssembler(1 << 20, 1);
        assembler.Accept(chunks[0]);
        Assert.Equal(ChunkStatus.Completed, assembler.Accept(chunks[1]).Status);
        Assert.Equal(ChunkStatus.Duplicate, assembler.Accept(chunks[1]).Status);
        Assert.Equal(0, assembler.PendingTransfers);
    }

    [Fact]
    public void ChunkAssembler_must_refuse_a_transfer_over_the_cap_before_allocating_it()
    {
        var assembler = new ChunkAssembler(maxTransferBytes: 1000, maxConcurrentTransfers: 2);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var refused = assembler.Accept(new BlockChunk(9, 0, 1_000_000, 1_000_000_000, new byte[1000]));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(ChunkStatus.Refused, refused.Status);
        Assert.Contains("transfer of 1000000000 bytes outside [0, max-transfer-bytes = 1000]", refused.Reason);
        Assert.True(allocated < 16 * 1024, $"allocated {allocated} bytes refusing a 1 GB transfer");
    }

    [Fact]
    public void ChunkAssembler_must_refuse_a_layout_with_an_empty_chunk()
    {
        var refused = new ChunkAssembler(1 << 20, 2).Accept(new BlockChunk(3, 0, 3, 4, new byte[2]));
        Assert.Equal(ChunkStatus.Refused, refused.Status);
        Assert.Contains("3 chunks cannot hold 4 bytes without an empty chunk", refused.Reason);
    }

    [Fact]
    public void ChunkAssembler_must_cap_concurrent_transfers()
    {
        var assembler = new ChunkAssembler(1 << 20, maxConcurrentTransfers: 2);
        var first = Chunks(1, 250);
        Assert.Equal(ChunkStatus.Pending, assembler.Accept(first[0]).Status);
        Assert.Equal(ChunkStatus.Pending, assembler.Accept(Chunks(2, 250)[0]).Status);

        var third = assembler.Accept(Chunks(3, 250)[0]);
        Assert.Equal(ChunkStatus.Refused, third.Status);
        Assert.Contains("2 transfers already pending from this sender (max-concurrent-transfers = 2)", third.Reason);

        assembler.Accept(first[1]);
        Assert.Equal(ChunkStatus.Completed, assembler.Accept(first[2]).Status);
        Assert.Equal(ChunkStatus.Pending, assembler.Accept(Chunks(4, 250)[0]).Status);
        Assert.Equal(2, assembler.PendingTransfers);
    }

    [Fact]
    public void ChunkAssembler_must_free_an_aborted_transfer()
    {
        var assembler = new ChunkAssembler(1 << 20, 1);
        assembler.Accept(Chunks(1, 250)[0]);
        Assert.True(assembler.Abort(1));
        Assert.Equal(0, assembler.PendingTransfers);
        Assert.Equal(ChunkStatus.Pending, assembler.Accept(Chunks(2, 250)[0]).Status);
    }

    [Fact]
    public void ChunkAssembler_must_take_memory_as_chunks_arrive_not_for_the_declared_transfer()
    {
        // One small chunk of a transfer that declares 512 MiB: before, the first chunk allocated all of it.
        const int Total = 512 * 1024 * 1024;
        const int Count = Total / 16;
        var assembler = new ChunkAssembler(maxTransferBytes: Total, maxConcurrentTransfers: 1, new TransferBudget(1L << 40));
        var chunk = new BlockChunk(1, 5, Count, Total, new byte[16]);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = assembler.Accept(chunk);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(ChunkStatus.Pending, result.Status);
        Assert.True(allocated < 4096, $"the first chunk of 16 bytes allocated {allocated} bytes");
        Assert.Equal(ChunkAssembler.TransferOverheadBytes + 16 + ChunkAssembler.ChunkOverheadBytes, assembler.Budget.HeldBytes);
        Assert.Equal(assembler.Budget.HeldBytes, assembler.HeldBytes);
    }

    [Fact]
    public void ChunkAssembler_must_charge_a_budget_shared_with_other_links_and_release_it_when_done()
    {
        var a = Chunks(1, 250);
        var b = Chunks(1, 250);
        var budget = new TransferBudget(2 * (ChunkAssembler.TransferOverheadBytes + a[0].Bytes.Length + ChunkAssembler.ChunkOverheadBytes));
        var first = new ChunkAssembler(1 << 20, 4, budget);
        var second = new ChunkAssembler(1 << 20, 4, budget);

        Assert.Equal(ChunkStatus.Pending, first.Accept(a[0]).Status);
        Assert.Equal(ChunkStatus.Pending, second.Accept(b[0]).Status);
        Assert.Equal(budget.MaxBytes, budget.HeldBytes);

        // Each link is far below its own caps; the receiver's budget is what refuses.
        var refused = second.Accept(b[1]);
        Assert.Equal(ChunkStatus.Refused, refused.Status);
        Assert.Contains($"max-inbox-bytes = {budget.MaxBytes}", refused.Reason);
        Assert.Equal(0, second.HeldBytes);
        Assert.Equal(first.HeldBytes, budget.HeldBytes);

        // What the refused transfer held went back to the budget: the other link's transfer now completes.
        Assert.Equal(ChunkStatus.Pending, first.Accept(a[1]).Status);
        Assert.Equal(ChunkStatus.Completed, first.Accept(a[2]).Status);
        Assert.Equal(0, budget.HeldBytes);
    }

    [Fact]
    public void ChunkAssembler_must_expire_a_transfer_idle_since_the_cut_off_and_keep_one_that_progressed()
    {
        var budget = new TransferBudget(1 << 20);
        var assembler = new ChunkAssembler(1 << 20, 4, budget);
        var stale = Chunks(1, 250);
        var live = Chunks(2, 250);
        assembler.Accept(stale[0], TimeSpan.FromSeconds(1));
        assembler.Accept(live[0], TimeSpan.FromSeconds(1));
        assembler.Accept(live[1], TimeSpan.FromSeconds(50));
        var staleBytes = ChunkAssembler.TransferOverheadBytes + stale[0].Bytes.Length + ChunkAssembler.ChunkOverheadBytes;

        Assert.Equal((1, (long)staleBytes), assembler.Expire(idleSince: TimeSpan.FromSeconds(10)));
        Assert.Equal(1, assembler.PendingTransfers);
        Assert.Equal(ChunkStatus.Dropped, assembler.Accept(stale[1], TimeSpan.FromSeconds(60)).Status);
        Assert.Equal(ChunkStatus.Completed, assembler.Accept(live[2], TimeSpan.FromSeconds(60)).Status);
        Assert.Equal(0, budget.HeldBytes);
    }

    [Fact]
    public void ChunkAssembler_must_deliver_the_payload_after_chunks_held_as_slices_of_their_frames()
    {
        // Chunks keep the bytes they came with until the transfer completes; the payload is one copy of them in order.
        var payload = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();
        var frames = new BlockChunker(300).Split(3, payload).Select(chunk => chunk with { Bytes = chunk.Bytes.ToArray() }).Reverse().ToList();
        var assembler = new ChunkAssembler(1 << 20, 1);
        var results = frames.Select(assembler.Accept).ToList();
        Assert.Equal(payload, results[^1].Payload);
        Assert.Equal(0, assembler.HeldBytes);
    }

    private static BlockChunk[] Chunks(long transferId, int totalBytes)
    {
        var payload = new byte[totalBytes];
        new Random((int)transferId).NextBytes(payload);
        return new BlockChunker(MaxChunk).Split(transferId, payload).ToArray();
    }
}
