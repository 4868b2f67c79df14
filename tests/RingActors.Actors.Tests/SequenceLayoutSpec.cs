using RingActors.Actors.Devices;
using RingActors.Math;

namespace RingActors.Actors.Tests;

public class SequenceLayoutSpec
{
    public static TheoryData<LayoutKind, int, int> Sizes()
    {
        var data = new TheoryData<LayoutKind, int, int>();
        foreach (var kind in Enum.GetValues<LayoutKind>())
        {
            foreach (var (n, p) in new[] { (1, 1), (2, 2), (3, 3), (7, 5), (16, 4), (31, 3), (61, 8), (257, 4), (100, 7), (9, 8) })
            {
                data.Add(kind, n, p);
            }
        }

        return data;
    }

    [Fact]
    public void SequenceLayout_must_list_the_zigzag_positions_of_4_devices_over_16_tokens()
    {
        var layout = new SequenceLayout(LayoutKind.Zigzag, 16, 4);
        Assert.Equal([0, 1, 14, 15], layout.Positions(0));
        Assert.Equal([2, 3, 12, 13], layout.Positions(1));
        Assert.Equal([4, 5, 10, 11], layout.Positions(2));
        Assert.Equal([6, 7, 8, 9], layout.Positions(3));
    }

    [Fact]
    public void SequenceLayout_must_list_contiguous_and_striped_positions()
    {
        var contiguous = new SequenceLayout(LayoutKind.Contiguous, 10, 3);
        Assert.Equal([0, 1, 2], contiguous.Positions(0));
        Assert.Equal([3, 4, 5], contiguous.Positions(1));
        Assert.Equal([6, 7, 8, 9], contiguous.Positions(2));
        var striped = new SequenceLayout(LayoutKind.Striped, 10, 3);
        Assert.Equal([0, 3, 6, 9], striped.Positions(0));
        Assert.Equal([1, 4, 7], striped.Positions(1));
        Assert.Equal([2, 5, 8], striped.Positions(2));
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void SequenceLayout_must_give_every_token_to_exactly_one_device_and_every_device_a_balanced_share(LayoutKind kind, int tokens, int devices)
    {
        var layout = new SequenceLayout(kind, tokens, devices);
        var all = new List<int>();
        for (var r = 0; r < devices; r++)
        {
            var positions = layout.Positions(r);
            Assert.NotEmpty(positions);
            Assert.Equal(positions.Order(), positions);
            Assert.InRange(positions.Length, tokens / devices, (tokens + devices - 1) / devices);
            Assert.All(positions, p => Assert.Equal(r, layout.DeviceOf(p)));
            all.AddRange(positions);
        }

        Assert.Equal(Enumerable.Range(0, tokens), all.Order());
    }

    [Fact]
    public void SequenceLayout_must_refuse_more_devices_than_tokens_and_unknown_names()
    {
        var tooMany = Assert.Throws<ArgumentException>(() => new SequenceLayout(LayoutKind.Zigzag, 3, 4));
        Assert.Equal("tokens", tooMany.ParamName);
        Assert.Contains("4 devices", tooMany.Message, StringComparison.Ordinal);
        var unknown = Assert.Throws<ArgumentException>(() => SequenceLayout.ParseKind("spiral"));
        Assert.Contains("spiral", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("zigzag", unknown.Message, StringComparison.Ordinal);
        Assert.Equal(LayoutKind.Striped, SequenceLayout.ParseKind(" Striped "));
        Assert.Equal("zigzag", SequenceLayout.NameOf(LayoutKind.Zigzag));
    }

    [Theory]
    [InlineData(LayoutKind.Contiguous)]
    [InlineData(LayoutKind.Striped)]
    [InlineData(LayoutKind.Zigzag)]
    public void SequenceLayout_must_scatter_gathered_rows_back_to_the_original_order(LayoutKind kind)
    {
        var shape = new AttentionShape(2, 4, 2, 31, 5);
        var input = AttentionInput.Random(shape, seed: 7);
        var layout = new SequenceLayout(kind, shape.SeqLen, 3);
        var q = new float[shape.QueryLength];
        var k = new float[shape.KeyValueLength];
        for (var r = 0; r < 3; r++)
        {
            var chunk = layout.QueryChunkOf(input, r);
            var block = layout.KeyValueBlockOf(input, r);
            Assert.Equal(layout.Positions(r), chunk.Positions);
            Assert.Equal(shape.Batch * shape.Heads * layout.Count(r) * shape.HeadDim, chunk.Data.Length);
            Assert.Equal(shape.Batch * shape.KvHeads * layout.Count(r) * shape.HeadDim, block.Keys.Length);
            layout.Scatter(chunk.Data, r, shape.Batch * shape.Heads, shape.HeadDim, q);
            layout.Scatter(block.Keys, r, shape.Batch * shape.KvHeads, shape.HeadDim, k);
        }

        Assert.Equal(input.Q, q);
        Assert.Equal(input.K, k);
    }

    [Theory]
    [InlineData(LayoutKind.Contiguous, 1.75, 2.0)]
    [InlineData(LayoutKind.Striped, 1.0, 1.05)]
    [InlineData(LayoutKind.Zigzag, 1.0, 1.05)]
    public void SequenceLayout_must_balance_causal_work_as_the_anchors_say(LayoutKind kind, double low, double high)
    {
        // Work counts of the real kernel (pairs in computed tiles) with each device's ring-skipping of empty blocks.
        // Contiguous: device r computes r full blocks and the diagonal, so max/mean → 2 as P grows; here (P = 8) ≈ 1.82.
        const int devices = 8;
        var shape = new AttentionShape(1, 1, 1, 2048, 1);
        var input = AttentionInput.Random(shape, seed: 3);
        var layout = new SequenceLayout(kind, shape.SeqLen, devices);
        var heads = AttentionHeads.Of(shape);
        var options = new AttentionOptions(Causal: true);
        var work = new long[devices];
        for (var r = 0; r < devices; r++)
        {
            var chunk = layout.QueryChunkOf(input, r);
            var partial = new PartialAttention(1, 1, chunk.Tokens, 1);
            for (var origin = 0; origin < devices; origin++)
            {
                var block = layout.KeyValueBlockOf(input, origin);
                if (!BlockSkipping.IsEmpty(options, heads, chunk.Positions, block.Positions))
                {
                    work[r] += BlockwiseAttention.Accumulate(chunk, block, heads, options, partial).PairsComputed;
                }
            }
        }

        Assert.InRange(WorkBalance.Imbalance(work), low, high);
    }

    [Fact]
    public void Pooled_chunks_must_equal_the_allocated_ones_and_reuse_returned_buffers()
    {
        var input = AttentionInput.Random(new AttentionShape(2, 4, 2, 37, 5), seed: 3);
        var layout = new SequenceLayout(LayoutKind.Zigzag, 37, 3);
        var pool = new ChunkBufferPool();
        for (var r = 0; r < 3; r++)
        {
            var chunk = layout.QueryChunkOf(input, r, pool);
            var block = layout.KeyValueBlockOf(input, r, pool);
            Assert.Equal(layout.QueryChunkOf(input, r).Data, chunk.Data);
            Assert.Equal(layout.KeyValueBlockOf(input, r).Keys, block.Keys);
            Assert.Equal(layout.KeyValueBlockOf(input, r).Values, block.Values);
            Assert.Equal(layout.Positions(r), chunk.Positions);

            SequenceLayout.Release(chunk, pool);
            Assert.Equal((long)chunk.Data.Length * sizeof(float), pool.RetainedBytes);
            var again = layout.QueryChunkOf(input, r, pool);
            Assert.Same(chunk.Data, again.Data); // the returned buffer, refilled
            Assert.Equal(layout.QueryChunkOf(input, r).Data, again.Data);
            Assert.Equal(0, pool.RetainedBytes);
        }
    }

    [Fact]
    public void ChunkBufferPool_must_give_exact_lengths_and_keep_no_more_than_its_limit()
    {
        var pool = new ChunkBufferPool(maxRetainedBytes: 100 * sizeof(float));
        var first = pool.Rent(60);
        var second = pool.Rent(60);
        Assert.Equal(60, first.Length);
        pool.Return(first);
        pool.Return(second); // 120 floats would exceed the 100 kept: dropped
        Assert.Equal(60L * sizeof(float), pool.RetainedBytes);
        Assert.Same(first, pool.Rent(60));
        Assert.NotSame(second, pool.Rent(60));
        Assert.Equal(61, pool.Rent(61).Length);
        Assert.Throws<ArgumentException>(() => SequenceLayout.GatherInto(new float[12], 1, 4, 3, [0, 1], new float[5]));
    }
}
