using RingActors.Math.Masks;

namespace RingActors.Math.Tests;

public class CausalMaskSpec
{
    [Fact]
    public void Refuse_must_refuse_exactly_the_keys_Allows_refuses()
    {
        // Zigzag-like, out-of-order key positions of an odd count around the query, as a ring device's block holds them.
        int[] keys = [.. Enumerable.Range(0, 37).Select(i => (i * 23) % 41)];
        IAttentionMask mask = CausalMask.Instance;
        foreach (var query in new[] { 0, 17, 40 })
        {
            var scores = Enumerable.Range(0, keys.Length).Select(i => (float)i).ToArray();
            mask.Refuse(query, keys, scores);
            for (var j = 0; j < keys.Length; j++)
            {
                Assert.Equal(keys[j] <= query ? j : float.NegativeInfinity, scores[j]);
            }
        }
    }

    [Fact]
    public void Classify_must_read_the_ranges_of_unordered_positions()
    {
        Assert.Equal(BlockCoverage.Full, CausalMask.Instance.Classify([9, 5, 7], [5, 1, 3]));
        Assert.Equal(BlockCoverage.Empty, CausalMask.Instance.Classify([4, 2, 3], [9, 5, 7]));
        Assert.Equal(BlockCoverage.Partial, CausalMask.Instance.Classify([9, 2], [5, 1]));
    }

    [Fact]
    public void AttendedKeys_must_drop_only_the_trailing_keys_every_query_is_refused()
    {
        IAttentionMask mask = CausalMask.Instance;
        Assert.Equal(64, mask.AttendedKeys([.. Enumerable.Range(0, 64)], [.. Enumerable.Range(0, 128)]));
        Assert.Equal(128, mask.AttendedKeys([.. Enumerable.Range(64, 64)], [.. Enumerable.Range(0, 128)]));

        // Unordered keys: a refused key before an attended one stays (the per-element mask refuses it).
        Assert.Equal(3, mask.AttendedKeys([7, 4], [9, 2, 5, 8, 11]));
        Assert.Equal(0, mask.AttendedKeys([1], [5, 6]));

        // An intersection keeps the shorter of the two prefixes.
        var window = new SlidingWindowPattern(8);
        var both = new IntersectionMask(window, CausalMask.Instance);
        Assert.Equal(5, ((IAttentionMask)both).AttendedKeys([0, 4], [.. Enumerable.Range(0, 16)]));
        Assert.Equal(16, ((IAttentionMask)window).AttendedKeys([0, 4], [.. Enumerable.Range(0, 16)]));
    }

    [Fact]
    public void Kernels_must_compute_half_a_key_tile_on_a_contiguous_causal_diagonal()
    {
        // N = 250: query tiles of 64 (the last 58) against key tiles of 128 (the last 122). Per query tile the attended
        // prefix of each key tile it does not skip: 64 | 128 | 128 + 64 | 128 + 122.
        var shape = new AttentionShape(1, 1, 1, 250, 8);
        var input = AttentionInput.Random(shape, seed: 11);
        var options = new AttentionOptions(Causal: true);
        const long Expected = (64 * 64) + (64 * 128) + (64 * (128 + 64)) + (58 * (128 + 122));

        var (forward, work) = BlockwiseAttention.Compute(input, options);
        Assert.Equal(Expected, work.PairsComputed);

        var outputGradient = AttentionInput.Random(shape, seed: 12).Q;
        var positions = Enumerable.Range(0, shape.SeqLen).ToArray();
        var rows = BackwardRows.Create(new QueryChunk(input.Q, positions), outputGradient, forward);
        var gradients = new KeyValueGradients(new float[shape.KeyValueLength], new float[shape.KeyValueLength]);
        var backward = BlockwiseBackward.Accumulate(rows, new KeyValueBlock(input.K, input.V, positions), AttentionHeads.Of(shape), options, new float[shape.QueryLength], gradients);
        Assert.Equal(Expected, backward.PairsComputed);
    }

    [Fact]
    public void A_partial_tile_with_no_attended_column_must_be_skipped_as_an_empty_one()
    {
        var shape = new AttentionShape(1, 1, 1, 200, 8);
        var input = AttentionInput.Random(shape, seed: 13);
        var options = new AttentionOptions(Pattern: new NothingAttended());

        var (result, work) = BlockwiseAttention.Compute(input, options);

        Assert.Equal(0, work.PairsComputed);
        Assert.Equal(0, work.TilesComputed);
        Assert.All(result.Output, value => Assert.Equal(0f, value));
        Assert.All(result.Lse, value => Assert.Equal(float.NegativeInfinity, value));

        var positions = Enumerable.Range(0, shape.SeqLen).ToArray();
        var rows = BackwardRows.Create(new QueryChunk(input.Q, positions), AttentionInput.Random(shape, seed: 14).Q, result);
        var gradients = new KeyValueGradients(new float[shape.KeyValueLength], new float[shape.KeyValueLength]);
        var backward = BlockwiseBackward.Accumulate(rows, new KeyValueBlock(input.K, input.V, positions), AttentionHeads.Of(shape), options, new float[shape.QueryLength], gradients);
        Assert.Equal(work, backward);
    }

    /// <summary>A pattern that calls every tile partial but attends no key in it: the kernels must not compute zero columns.</summary>
    private sealed class NothingAttended : StaticPattern, IAttentionMask
    {
        public override string Name => "nothing";

        public override bool Allows(int query, int key) => false;

        public override BlockCoverage Classify(ReadOnlySpan<int> queries, ReadOnlySpan<int> keys) => BlockCoverage.Partial;

        public int AttendedKeys(ReadOnlySpan<int> queries, ReadOnlySpan<int> keys) => 0;
    }
}
