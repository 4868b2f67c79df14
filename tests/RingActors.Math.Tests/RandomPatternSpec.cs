using RingActors.Math.Masks;

namespace RingActors.Math.Tests;

public class RandomPatternSpec
{
    [Fact]
    public void Random_must_give_each_query_exactly_r_distinct_keys_in_range()
    {
        var pattern = new RandomPattern(5, 31, seed: 3);
        for (var i = 0; i < 31; i++)
        {
            var keys = pattern.KeysOf(i).ToArray();
            Assert.Equal(5, keys.Length);
            Assert.Equal(keys.Order().Distinct(), keys);
            Assert.All(keys, j => Assert.InRange(j, 0, 30));
            Assert.Equal(5, Enumerable.Range(0, 31).Count(j => pattern.Allows(i, j)));
        }
    }

    [Fact]
    public void Causal_random_must_draw_only_from_the_past()
    {
        var pattern = new RandomPattern(4, 40, seed: 5, causal: true);
        Assert.True(pattern.IsCausal);
        for (var i = 0; i < 40; i++)
        {
            var keys = pattern.KeysOf(i).ToArray();
            Assert.Equal(System.Math.Min(4, i + 1), keys.Length);
            Assert.All(keys, j => Assert.InRange(j, 0, i));
        }
    }

    [Fact]
    public void Random_must_depend_only_on_seed_and_query()
    {
        var a = new RandomPattern(8, 257, seed: 42);
        var b = new RandomPattern(8, 257, seed: 42);
        var c = new RandomPattern(8, 257, seed: 43);
        var differs = 0;
        for (var i = 0; i < 257; i++)
        {
            Assert.Equal(a.KeysOf(i).ToArray(), b.KeysOf(i).ToArray());
            differs += a.KeysOf(i).SequenceEqual(c.KeysOf(i)) ? 0 : 1;
        }

        Assert.True(differs > 200, $"only {differs} of 257 rows changed with the seed");
    }

    [Fact]
    public void Random_keys_must_spread_over_the_whole_sequence()
    {
        var pattern = new RandomPattern(16, 1024, seed: 1);
        var perQuarter = new int[4];
        for (var i = 0; i < 1024; i++)
        {
            foreach (var j in pattern.KeysOf(i))
            {
                perQuarter[j / 256]++;
            }
        }

        // 16384 draws, 4096 expected per quarter; 5 standard deviations is about ±280.
        Assert.All(perQuarter, count => Assert.InRange(count, 3700, 4500));
    }

    [Fact]
    public void Random_must_take_every_key_when_r_reaches_n_and_refuse_another_length()
    {
        var pattern = new RandomPattern(50, 31, seed: 0);
        Assert.All(Enumerable.Range(0, 31), i => Assert.Equal(31, pattern.KeysOf(i).Length));
        Assert.Equal(BlockCoverage.Full, pattern.Classify([0, 5, 30], [.. Enumerable.Range(0, 31)]));
        Assert.Throws<ArgumentException>(() => pattern.Validate(new AttentionShape(1, 1, 1, 32, 4)));
        pattern.Validate(new AttentionShape(1, 1, 1, 31, 4));
    }
}
