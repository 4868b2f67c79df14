using RingActors.Math.Masks;

namespace RingActors.Math.Tests;

public class TopKPatternSpec
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Top_k_must_keep_each_querys_highest_scoring_keys_per_head(bool causal)
    {
        // GQA: 4 query heads share 2 key/value heads, so heads of one group pick from the same keys but their own queries.
        var shape = new AttentionShape(2, 4, 2, 31, 8);
        var input = AttentionInput.Random(shape, seed: 17);
        const int K = 5;
        var pattern = new TopKPattern(input, K, causal);
        Assert.Equal(causal, pattern.IsCausal);
        for (var b = 0; b < shape.Batch; b++)
        {
            for (var h = 0; h < shape.Heads; h++)
            {
                var mask = pattern.MaskFor(b, h);
                for (var i = 0; i < shape.SeqLen; i++)
                {
                    var candidates = causal ? i + 1 : shape.SeqLen;
                    var scores = Enumerable.Range(0, candidates).Select(j => Score(input, b, h, i, j)).ToArray();
                    var kept = Enumerable.Range(0, shape.SeqLen).Where(j => mask.Allows(i, j)).ToArray();
                    Assert.Equal(System.Math.Min(K, candidates), kept.Length);
                    Assert.All(kept, j => Assert.True(j < candidates, $"query {i} kept key {j} outside the candidates"));

                    // Every kept key scores at least as high as every dropped one (up to float rounding of the dot products).
                    var lowestKept = kept.Min(j => scores[j]);
                    var highestDropped = Enumerable.Range(0, candidates).Except(kept).Select(j => scores[j]).DefaultIfEmpty(double.NegativeInfinity).Max();
                    Assert.True(lowestKept >= highestDropped - 1e-5, $"(b{b}, h{h}, q{i}) kept {lowestKept} but dropped {highestDropped}");
                }
            }
        }
    }

    [Fact]
    public void Top_k_masks_must_differ_between_heads_and_classify_exactly()
    {
        var shape = new AttentionShape(1, 2, 1, 257, 16);
        var input = AttentionInput.Random(shape, seed: 3);
        var pattern = new TopKPattern(input, 12);
        var first = pattern.Mask(0, 0);
        var second = pattern.Mask(0, 1);
        Assert.NotEqual(
            SlidingWindowPatternSpec.AllowedPairs(first, 257),
            SlidingWindowPatternSpec.AllowedPairs(second, 257));
        PatternDefinitions.AssertClassifyExact(first, first.Allows, 257, seed: 5);
        Assert.Equal(257L * 12, first.Count);
    }

    [Fact]
    public void Top_k_must_break_ties_towards_the_earlier_key()
    {
        // Identical keys score identically: the first k win.
        var shape = new AttentionShape(1, 1, 1, 10, 4);
        var input = new AttentionInput(shape, [.. Enumerable.Repeat(1f, 40)], [.. Enumerable.Repeat(0.5f, 40)], new float[40]);
        var mask = new TopKPattern(input, 3).Mask(0, 0);
        Assert.All(Enumerable.Range(0, 10), i => Assert.Equal([0, 1, 2], mask.KeysOf(i).ToArray()));
    }

    [Fact]
    public void Top_k_must_refuse_a_problem_of_another_shape()
    {
        var pattern = new TopKPattern(AttentionInput.Random(new AttentionShape(1, 2, 1, 31, 4), 1), 3);
        Assert.Throws<ArgumentException>(() => pattern.Validate(new AttentionShape(1, 2, 1, 30, 4)));
        Assert.Throws<ArgumentException>(() => pattern.Validate(new AttentionShape(1, 4, 1, 31, 4)));
        Assert.Throws<ArgumentException>(() => pattern.MaskFor(0, 2));
        pattern.Validate(new AttentionShape(1, 2, 1, 31, 4));
    }

    private static double Score(AttentionInput input, int b, int h, int i, int j)
    {
        var shape = input.Shape;
        var q = (((b * shape.Heads) + h) * shape.SeqLen) + i;
        var k = (((b * shape.KvHeads) + (h / shape.GroupSize)) * shape.SeqLen) + j;
        double dot = 0;
        for (var c = 0; c < shape.HeadDim; c++)
        {
            dot += (double)input.Q[(q * shape.HeadDim) + c] * input.K[(k * shape.HeadDim) + c];
        }

        return dot * shape.DefaultScale;
    }
}
