using RingActors.Math.Masks;

namespace RingActors.Math.Tests;

public class BigBirdPatternSpec
{
    [Theory]
    [InlineData(257, 16, 2, 3, false)]
    [InlineData(257, 16, 2, 3, true)]
    [InlineData(31, 4, 1, 2, false)]
    [InlineData(100, 10, 0, 20, false)]
    public void BigBird_must_hold_window_global_and_exactly_r_random_blocks(int n, int b, int g, int r, bool causal)
    {
        var pattern = new BigBirdPattern(b, g, r, n, seed: 9, causal);
        var blocks = (n + b - 1) / b;
        Assert.Equal(blocks, pattern.Blocks);
        for (var q = 0; q < blocks; q++)
        {
            var extra = 0;
            var eligible = 0;
            for (var k = 0; k < blocks; k++)
            {
                var structural = System.Math.Abs(q - k) <= 1 || q < g || k < g;
                if (structural)
                {
                    Assert.True(pattern.BlockAllowed(q, k), $"block ({q}, {k}) must be allowed by window or global");
                    continue;
                }

                if (!causal || k <= q)
                {
                    eligible++;
                }

                if (pattern.BlockAllowed(q, k))
                {
                    extra++;
                    Assert.True(!causal || k <= q, $"causal BigBird drew future block {k} for query block {q}");
                }
            }

            Assert.Equal(System.Math.Min(r, eligible), extra);
        }

        // Token pairs follow their blocks, the last block being short.
        PatternDefinitions.AssertAllowsEverywhere(pattern, (i, j) => pattern.BlockAllowed(i / b, j / b), n);
    }

    [Fact]
    public void BigBird_random_blocks_must_depend_only_on_the_seed()
    {
        var a = new BigBirdPattern(8, 1, 2, 257, seed: 1);
        var b = new BigBirdPattern(8, 1, 2, 257, seed: 1);
        var c = new BigBirdPattern(8, 1, 2, 257, seed: 2);
        Assert.Equal(a.FormatLayout(), b.FormatLayout());
        Assert.NotEqual(a.FormatLayout(), c.FormatLayout());
        Assert.Equal("bigbird:8:1:2", a.Name);
    }

    [Fact]
    public void BigBird_must_refuse_more_global_blocks_than_exist()
    {
        var error = Assert.Throws<ArgumentException>(() => new BigBirdPattern(64, 6, 1, 257, seed: 0));
        Assert.Equal("globalBlocks", error.ParamName);
        Assert.Throws<ArgumentException>(() => new BigBirdPattern(64, 1, -1, 257, seed: 0));
    }
}
