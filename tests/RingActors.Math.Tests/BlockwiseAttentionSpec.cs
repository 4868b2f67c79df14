using RingActors.Math.Kernels;
using RingActors.Math.Masks;

namespace RingActors.Math.Tests;

public class BlockwiseAttentionSpec
{
    public static TheoryData<int, int, int, int, int, bool, int, VectorIsa> Shapes()
    {
        // batch, heads, kvHeads, seq, dim, causal, threads
        (int, int, int, int, int, bool, int)[] shapes =
        [
            (1, 1, 1, 31, 8, false, 1),
            (1, 1, 1, 31, 8, true, 1),
            (2, 4, 2, 257, 16, true, 2),
            (1, 4, 1, 200, 33, false, 2),
            (1, 2, 2, 130, 64, true, 1),
            (1, 3, 3, 65, 7, false, 1),
            (2, 2, 1, 300, 80, true, 2),
            (1, 1, 1, 517, 24, true, 1),
        ];
        var data = new TheoryData<int, int, int, int, int, bool, int, VectorIsa>();
        foreach (var isa in BlockwiseBackwardSpec.Paths())
        {
            foreach (var (batch, heads, kvHeads, seq, dim, causal, threads) in shapes)
            {
                data.Add(batch, heads, kvHeads, seq, dim, causal, threads, isa);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Accumulate_must_equal_the_float64_oracle(int batch, int heads, int kvHeads, int seq, int dim, bool causal, int threads, VectorIsa isa)
    {
        var shape = new AttentionShape(batch, heads, kvHeads, seq, dim);
        var input = AttentionInput.Random(shape, seed: seq * 31 + dim);
        var options = new AttentionOptions(Causal: causal, Threads: threads);
        var positions = Enumerable.Range(0, seq).ToArray();
        var result = new PartialAttention(batch, heads, seq, dim);
        BlockwiseAttention.Accumulate(new QueryChunk(input.Q, positions), new KeyValueBlock(input.K, input.V, positions), AttentionHeads.Of(shape), options, result, isa);
        var (expected, expectedLse) = ReferenceAttention.Compute(input, options);
        var error = ErrorMetrics.Compare(result.Output, expected);
        Assert.True(error.RelativeError < 1e-5, $"relative error {error.RelativeError}");
        for (var i = 0; i < expectedLse.Length; i++)
        {
            Assert.Equal(expectedLse[i], result.Lse[i], 1e-4);
        }
    }

    [Fact]
    public void A_rows_largest_score_in_a_late_key_tile_rescales_what_the_earlier_tiles_summed()
    {
        // The running max grows in the last of 5 key tiles (one key scores far above the rest), and the first query
        // attends nothing in the first two tiles: the in-tile online softmax must rescale and must start late exactly.
        var shape = new AttentionShape(1, 1, 1, 600, 16);
        var input = AttentionInput.Random(shape, seed: 7);
        input.K.AsSpan(590 * 16, 16).Fill(3f);
        input.Q.AsSpan(0, 16).Fill(1f);
        var pattern = PatternSpec.Parse("global:300-599", new PatternContext(600, Seed: 1, Causal: false, Input: input));
        foreach (var isa in BlockwiseBackwardSpec.Paths())
        {
            var options = new AttentionOptions(Pattern: pattern);
            var positions = Enumerable.Range(0, 600).ToArray();
            var result = new PartialAttention(1, 1, 600, 16);
            BlockwiseAttention.Accumulate(new QueryChunk(input.Q, positions), new KeyValueBlock(input.K, input.V, positions), AttentionHeads.Of(shape), options, result, isa);
            var (expected, expectedLse) = ReferenceAttention.Compute(input, options);
            Assert.True(ErrorMetrics.Compare(result.Output, expected).RelativeError < 1e-5, isa.ToString());
            Assert.Equal(expectedLse[0], result.Lse[0], 1e-4);
        }
    }
}
