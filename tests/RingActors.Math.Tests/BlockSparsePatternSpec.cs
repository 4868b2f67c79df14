using RingActors.Math.Masks;

namespace RingActors.Math.Tests;

public class BlockSparsePatternSpec
{
    private static readonly bool[,] Layout =
    {
        { true, false, false, false },
        { true, true, false, false },
        { false, true, false, true },
        { true, false, false, true },
    };

    [Fact]
    public void Block_sparse_must_follow_its_layout_with_a_short_last_block()
    {
        // 31 tokens in blocks of 8: the last block holds 7.
        var pattern = new BlockSparsePattern(8, Layout, 31);
        PatternDefinitions.AssertAllowsEverywhere(pattern, PatternDefinitions.Layout(8, Layout), 31);
        Assert.Equal("block:8:1000/1100/0101/1001", pattern.Name);
        Assert.Equal(7, pattern.AllowedBlocks);
    }

    [Fact]
    public void Block_sparse_must_allow_exactly_the_hand_checked_pairs()
    {
        // blocks of 2 over N=4, layout 10/11: block 0 sees block 0, block 1 sees both.
        var pattern = new BlockSparsePattern(2, new[,] { { true, false }, { true, true } }, 4);
        (int, int)[] expected = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1), (2, 2), (2, 3), (3, 0), (3, 1), (3, 2), (3, 3)];
        Assert.Equal(expected, SlidingWindowPatternSpec.AllowedPairs(pattern, 4));
    }

    [Fact]
    public void Block_sparse_must_classify_by_the_blocks_present()
    {
        var pattern = new BlockSparsePattern(8, Layout, 31);
        Assert.Equal(BlockCoverage.Full, pattern.Classify([8, 9, 15], [0, 7, 8, 15]));
        Assert.Equal(BlockCoverage.Empty, pattern.Classify([0, 7], [8, 16, 24]));
        Assert.Equal(BlockCoverage.Partial, pattern.Classify([16, 17], [8, 16]));
        Assert.Equal(BlockCoverage.Partial, pattern.Classify([30, 0, 24], [0, 30]));
    }

    [Fact]
    public void Block_sparse_must_refuse_a_layout_of_the_wrong_size()
    {
        var error = Assert.Throws<ArgumentException>(() => new BlockSparsePattern(8, Layout, 40));
        Assert.Equal("layout", error.ParamName);
        Assert.Contains("5×5", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new BlockSparsePattern(8, Layout, 31).Validate(new AttentionShape(1, 1, 1, 30, 4)));
    }
}
