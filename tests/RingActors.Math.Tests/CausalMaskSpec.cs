using RingActors.Math.Masks;

namespace RingActors.Math.Tests;

public class CausalMaskSpec
{
    [Fact]
    public void Refuse_must_refuse_exactly_the_keys_Allows_refuses()
    {
        // Zigzag-like, out-of-order key positions of an odd count around the query, as a ring device's block holds them.
        int[] keys = [.. Enumerable.Range(0, 37).Select(i => (i * 23) % 41)];
        IAttentionMask mask = CausalMask.Instance;
        foreach (var query in new[] { 0, 17, 40 })
        {
            var scores = Enumerable.Range(0, keys.Length).Select(i => (float)i).ToArray();
            mask.Refuse(query, keys, scores);
            for (var j = 0; j < keys.Length; j++)
            {
                Assert.Equal(keys[j] <= query ? j : float.NegativeInfinity, scores[j]);
            }
        }
    }

    [Fact]
    public void Classify_must_read_the_ranges_of_unordered_positions()
    {
        Assert.Equal(BlockCoverage.Full, CausalMask.Instance.Classify([9, 5, 7], [5, 1, 3]));
        Assert.Equal(BlockCoverage.Empty, CausalMask.Instance.Classify([4, 2, 3], [9, 5, 7]));
        Assert.Equal(BlockCoverage.Partial, CausalMask.Instance.Classify([9, 2], [5, 1]));
    }
}
