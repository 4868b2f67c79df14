using RingActors.Math.Masks;

namespace RingActors.Math.Tests;

public class GlobalTokensPatternSpec
{
    [Fact]
    public void Global_tokens_must_allow_exactly_the_hand_checked_pairs()
    {
        // global:1 on N=4: row 1 and column 1.
        (int, int)[] expected = [(0, 1), (1, 0), (1, 1), (1, 2), (1, 3), (2, 1), (3, 1)];
        Assert.Equal(expected, SlidingWindowPatternSpec.AllowedPairs(new GlobalTokensPattern([1]), 4));
    }

    [Fact]
    public void Global_tokens_must_match_their_definition()
    {
        int[] g = [0, 3, 4, 17, 30];
        PatternDefinitions.AssertAllowsEverywhere(new GlobalTokensPattern(g), PatternDefinitions.Global(g), 31);
    }

    [Fact]
    public void Global_tokens_must_be_full_when_all_queries_or_all_keys_are_global()
    {
        var pattern = new GlobalTokensPattern([2, 3, 9]);
        Assert.Equal(BlockCoverage.Full, pattern.Classify([2, 3], [50, 60]));
        Assert.Equal(BlockCoverage.Full, pattern.Classify([50, 60], [9, 3]));
        Assert.Equal(BlockCoverage.Partial, pattern.Classify([2, 50], [60, 70]));
        Assert.Equal(BlockCoverage.Empty, pattern.Classify([50, 51], [60, 70]));
    }

    [Fact]
    public void Global_tokens_must_sort_deduplicate_and_name_compactly()
    {
        var pattern = new GlobalTokensPattern([7, 0, 1, 2, 3, 7, 9]);
        Assert.Equal([0, 1, 2, 3, 7, 9], pattern.Positions);
        Assert.Equal("global:0-3,7,9", pattern.Name);
    }

    [Fact]
    public void Global_tokens_must_refuse_no_positions_or_negative_ones()
    {
        Assert.Throws<ArgumentException>(() => new GlobalTokensPattern([]));
        Assert.Throws<ArgumentException>(() => new GlobalTokensPattern([3, -1]));
    }
}
