using RingActors.Math.Masks;

namespace RingActors.Math.Tests;

public class UnionPatternSpec
{
    [Fact]
    public void Union_must_allow_a_pair_when_any_member_does()
    {
        var union = UnionPattern.Of([new SlidingWindowPattern(4), new GlobalTokensPattern([0]), new StridedPattern(7)]);
        var static_ = Assert.IsType<UnionPattern>(union);
        var definition = PatternDefinitions.Any(PatternDefinitions.Window(4), PatternDefinitions.Global(0), PatternDefinitions.Strided(7));
        PatternDefinitions.AssertAllowsEverywhere(static_, definition, 60);
        PatternDefinitions.AssertClassifyExact(static_, definition, 60, seed: 2);
        Assert.Equal("union:window:4+global:0+strided:7", union.Name);
        Assert.False(union.IsCausal);
    }

    [Fact]
    public void Union_of_two_partial_members_must_be_full_when_they_cover_the_tile()
    {
        var lower = new BlockSparsePattern(4, new[,] { { true, false }, { true, true } }, 8);
        var upper = new BlockSparsePattern(4, new[,] { { false, true }, { false, false } }, 8);
        var union = new UnionPattern([lower, upper]);
        int[] all = [.. Enumerable.Range(0, 8)];
        Assert.Equal(BlockCoverage.Partial, lower.Classify(all, all));
        Assert.Equal(BlockCoverage.Partial, upper.Classify(all, all));
        Assert.Equal(BlockCoverage.Full, union.Classify(all, all));
    }

    [Fact]
    public void Union_with_a_data_dependent_member_must_give_each_head_its_own_mask()
    {
        var input = AttentionInput.Random(new AttentionShape(1, 2, 2, 31, 8), seed: 4);
        var topK = new TopKPattern(input, 3, causal: true);
        var window = new SlidingWindowPattern(4, causal: true);
        var union = Assert.IsType<HeadwiseUnionPattern>(UnionPattern.Of([window, topK]));
        Assert.True(union.IsCausal);
        for (var h = 0; h < 2; h++)
        {
            var mask = union.MaskFor(0, h);
            Assert.Same(mask, union.MaskFor(0, h));
            var member = topK.MaskFor(0, h);
            PatternDefinitions.AssertAllowsEverywhere(mask, (i, j) => window.Allows(i, j) || member.Allows(i, j), 31);
            PatternDefinitions.AssertClassifyExact(mask, (i, j) => window.Allows(i, j) || member.Allows(i, j), 31, seed: h);
        }
    }

    [Fact]
    public void Union_of_one_pattern_must_be_that_pattern()
    {
        var window = new SlidingWindowPattern(8);
        Assert.Same(window, UnionPattern.Of([window]));
        Assert.Throws<ArgumentException>(() => UnionPattern.Of([]));
    }
}
