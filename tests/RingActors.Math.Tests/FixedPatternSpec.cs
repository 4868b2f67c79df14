using RingActors.Math.Masks;

namespace RingActors.Math.Tests;

public class FixedPatternSpec
{
    [Fact]
    public void Fixed_must_allow_exactly_the_hand_checked_pairs()
    {
        // fixed:3:1 on N=6: blocks {0,1,2} and {3,4,5}; keys 2 and 5 (j mod 3 = 2) are summaries everyone sees.
        (int, int)[] expected =
        [
            (0, 0), (0, 1), (0, 2), (0, 5),
            (1, 0), (1, 1), (1, 2), (1, 5),
            (2, 0), (2, 1), (2, 2), (2, 5),
            (3, 2), (3, 3), (3, 4), (3, 5),
            (4, 2), (4, 3), (4, 4), (4, 5),
            (5, 2), (5, 3), (5, 4), (5, 5),
        ];
        Assert.Equal(expected, SlidingWindowPatternSpec.AllowedPairs(new FixedPattern(3, 1), 6));
    }

    [Fact]
    public void Fixed_must_match_its_definition()
    {
        for (var l = 1; l <= 10; l++)
        {
            for (var c = 0; c <= l; c++)
            {
                PatternDefinitions.AssertAllowsEverywhere(new FixedPattern(l, c), PatternDefinitions.Fixed(l, c), 41);
            }
        }
    }

    [Fact]
    public void Fixed_must_classify_blocks_and_summary_keys()
    {
        var pattern = new FixedPattern(64, 8);
        int[] block = [.. Enumerable.Range(64, 64)];
        Assert.Equal(BlockCoverage.Full, pattern.Classify(block, block));
        Assert.Equal(BlockCoverage.Full, pattern.Classify(block, [.. Enumerable.Range(56, 8)]));
        Assert.Equal(BlockCoverage.Partial, pattern.Classify(block, [.. Enumerable.Range(0, 64)]));
        Assert.Equal(BlockCoverage.Empty, pattern.Classify(block, [.. Enumerable.Range(128, 56)]));
    }

    [Fact]
    public void Fixed_must_refuse_more_summary_keys_than_the_block_holds()
    {
        var error = Assert.Throws<ArgumentException>(() => new FixedPattern(8, 9));
        Assert.Equal("summaryKeys", error.ParamName);
        Assert.Throws<ArgumentException>(() => new FixedPattern(0, 0));
    }
}
