using RingActors.Math.Masks;

namespace RingActors.Math.Tests;

public class SlidingWindowPatternSpec
{
    [Fact]
    public void Window_must_allow_exactly_the_hand_checked_pairs_on_six_tokens()
    {
        // window:2 on N=6: |i − j| ≤ 1, the diagonal and its two neighbours.
        (int, int)[] expected =
        [
            (0, 0), (0, 1),
            (1, 0), (1, 1), (1, 2),
            (2, 1), (2, 2), (2, 3),
            (3, 2), (3, 3), (3, 4),
            (4, 3), (4, 4), (4, 5),
            (5, 4), (5, 5),
        ];
        Assert.Equal(expected, AllowedPairs(new SlidingWindowPattern(2), 6));
    }

    [Fact]
    public void Causal_window_must_allow_exactly_the_hand_checked_pairs_on_six_tokens()
    {
        // causal-window:3 on N=6: 0 ≤ i − j < 3, the query and the two keys before it.
        (int, int)[] expected =
        [
            (0, 0),
            (1, 0), (1, 1),
            (2, 0), (2, 1), (2, 2),
            (3, 1), (3, 2), (3, 3),
            (4, 2), (4, 3), (4, 4),
            (5, 3), (5, 4), (5, 5),
        ];
        Assert.Equal(expected, AllowedPairs(new SlidingWindowPattern(3, causal: true), 6));
    }

    [Fact]
    public void Window_must_match_its_definition_for_every_width()
    {
        for (var w = 1; w <= 40; w++)
        {
            PatternDefinitions.AssertAllowsEverywhere(new SlidingWindowPattern(w), PatternDefinitions.Window(w), 40);
            PatternDefinitions.AssertAllowsEverywhere(new SlidingWindowPattern(w, causal: true), PatternDefinitions.CausalWindow(w), 40);
        }
    }

    [Fact]
    public void Window_must_classify_kernel_tiles_from_their_ranges()
    {
        var window = new SlidingWindowPattern(256);
        int[] tile = [.. Enumerable.Range(1000, 64)];
        Assert.Equal(BlockCoverage.Full, window.Classify(tile, [.. Enumerable.Range(1000, 64)]));
        Assert.Equal(BlockCoverage.Partial, window.Classify(tile, [.. Enumerable.Range(1100, 128)]));
        Assert.Equal(BlockCoverage.Empty, window.Classify(tile, [.. Enumerable.Range(1300, 128)]));

        // Striped keys 2 apart, none within reach of the query: Empty although the ranges overlap.
        var narrow = new SlidingWindowPattern(2);
        Assert.Equal(BlockCoverage.Empty, narrow.Classify([10, 20, 30], [15, 25, 35]));
    }

    [Fact]
    public void Window_must_name_itself_as_the_command_line_writes_it()
    {
        Assert.Equal("window:256", new SlidingWindowPattern(256).Name);
        Assert.Equal("causal-window:256", new SlidingWindowPattern(256, causal: true).Name);
        Assert.True(new SlidingWindowPattern(4, causal: true).IsCausal);
        Assert.False(new SlidingWindowPattern(4).IsCausal);
    }

    [Fact]
    public void Window_must_refuse_a_non_positive_width()
    {
        var error = Assert.Throws<ArgumentException>(() => new SlidingWindowPattern(0));
        Assert.Equal("window", error.ParamName);
    }

    internal static (int, int)[] AllowedPairs(IAttentionMask mask, int n) =>
        [.. from i in Enumerable.Range(0, n) from j in Enumerable.Range(0, n) where mask.Allows(i, j) select (i, j)];
}
