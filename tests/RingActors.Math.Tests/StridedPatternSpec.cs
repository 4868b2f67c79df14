using RingActors.Math.Masks;

namespace RingActors.Math.Tests;

public class StridedPatternSpec
{
    [Fact]
    public void Strided_must_allow_exactly_the_hand_checked_pairs()
    {
        // strided:3 on N=8: the query, the 2 keys before it, and every third key further back.
        (int, int)[] expected =
        [
            (0, 0),
            (1, 0), (1, 1),
            (2, 0), (2, 1), (2, 2),
            (3, 0), (3, 1), (3, 2), (3, 3),
            (4, 1), (4, 2), (4, 3), (4, 4),
            (5, 2), (5, 3), (5, 4), (5, 5),
            (6, 0), (6, 3), (6, 4), (6, 5), (6, 6),
            (7, 1), (7, 4), (7, 5), (7, 6), (7, 7),
        ];
        Assert.Equal(expected, SlidingWindowPatternSpec.AllowedPairs(new StridedPattern(3), 8));
    }

    [Fact]
    public void Strided_must_match_its_definition_and_be_causal()
    {
        for (var l = 1; l <= 12; l++)
        {
            var pattern = new StridedPattern(l);
            Assert.True(pattern.IsCausal);
            PatternDefinitions.AssertAllowsEverywhere(pattern, PatternDefinitions.Strided(l), 50);
        }
    }

    [Fact]
    public void Strided_default_stride_must_be_the_rounded_square_root()
    {
        Assert.Equal(16, StridedPattern.DefaultStride(256));
        Assert.Equal(16, StridedPattern.DefaultStride(257));
        Assert.Equal(6, StridedPattern.DefaultStride(31));
        Assert.Equal(1, StridedPattern.DefaultStride(1));
    }

    [Fact]
    public void Strided_must_skip_tiles_above_the_diagonal_and_keep_the_far_past_partial()
    {
        var pattern = new StridedPattern(16);
        int[] tile = [.. Enumerable.Range(1024, 64)];
        Assert.Equal(BlockCoverage.Empty, pattern.Classify(tile, [.. Enumerable.Range(2048, 128)]));
        Assert.Equal(BlockCoverage.Partial, pattern.Classify(tile, [.. Enumerable.Range(0, 128)]));
    }
}
