using RingActors.Math.Masks;

namespace RingActors.Math.Tests;

public class DilatedWindowPatternSpec
{
    [Fact]
    public void Dilated_window_must_allow_exactly_the_hand_checked_pairs()
    {
        // dilated:4:2 on N=7: |i − j| ≤ 2·2 = 4 and i − j even.
        (int, int)[] expected =
        [
            (0, 0), (0, 2), (0, 4),
            (1, 1), (1, 3), (1, 5),
            (2, 0), (2, 2), (2, 4), (2, 6),
            (3, 1), (3, 3), (3, 5),
            (4, 0), (4, 2), (4, 4), (4, 6),
            (5, 1), (5, 3), (5, 5),
            (6, 2), (6, 4), (6, 6),
        ];
        Assert.Equal(expected, SlidingWindowPatternSpec.AllowedPairs(new DilatedWindowPattern(4, 2), 7));
    }

    [Fact]
    public void Dilated_window_must_match_its_definition()
    {
        for (var w = 1; w <= 12; w++)
        {
            for (var delta = 1; delta <= 5; delta++)
            {
                PatternDefinitions.AssertAllowsEverywhere(new DilatedWindowPattern(w, delta), PatternDefinitions.Dilated(w, delta), 45);
            }
        }
    }

    [Fact]
    public void Dilated_window_must_be_full_only_for_positions_of_one_residue()
    {
        var pattern = new DilatedWindowPattern(64, 4);

        // Striped chunks t mod 4 = 1 on both sides: every offset is a multiple of 4 and within reach.
        int[] striped = [.. Enumerable.Range(0, 16).Select(t => 1 + (4 * t))];
        Assert.Equal(BlockCoverage.Full, pattern.Classify(striped, striped));
        Assert.Equal(BlockCoverage.Empty, pattern.Classify(striped, [.. striped.Select(p => p + 2)]));
        Assert.Equal(BlockCoverage.Partial, pattern.Classify([.. Enumerable.Range(0, 8)], [.. Enumerable.Range(0, 8)]));
        Assert.Equal("dilated:64:4", pattern.Name);
        Assert.Equal(128, pattern.Reach);
    }
}
