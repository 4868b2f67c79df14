using RingActors.Math;
using RingActors.Math.Masks;

namespace RingActors.Actors;

/// <summary>
/// Exact count of the (query, key) pairs a mask allows: the "scope" of an attention method. Tiles of 64×64 positions are
/// classified first, so a structured pattern costs far less than N² <see cref="IAttentionMask.Allows"/> calls.
/// </summary>
public static class PairCounting
{
    private const int Tile = 64;

    /// <summary>Allowed pairs summed over every (batch, head) of <paramref name="shape"/> under <paramref name="options"/>.</summary>
    public static long AllowedPairs(AttentionShape shape, AttentionOptions options)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(options);
        var heads = (long)shape.Batch * shape.Heads;
        if (options.SameMaskForAllHeads)
        {
            var mask = options.MaskFor(0, 0);
            return heads * (mask is null ? (long)shape.SeqLen * shape.SeqLen : Count(mask, shape.SeqLen));
        }

        long total = 0;
        for (var b = 0; b < shape.Batch; b++)
        {
            for (var h = 0; h < shape.Heads; h++)
            {
                var mask = options.MaskFor(b, h);
                total += mask is null ? (long)shape.SeqLen * shape.SeqLen : Count(mask, shape.SeqLen);
            }
        }

        return total;
    }

    /// <summary>Allowed pairs over all pairs: 1 for full attention, about ½ for causal.</summary>
    public static double Density(AttentionShape shape, AttentionOptions options) =>
        (double)AllowedPairs(shape, options) / ((double)shape.Batch * shape.Heads * shape.SeqLen * shape.SeqLen);

    private static long Count(IAttentionMask mask, int tokens)
    {
        long count = 0;
        for (var q0 = 0; q0 < tokens; q0 += Tile)
        {
            var queries = Enumerable.Range(q0, System.Math.Min(Tile, tokens - q0)).ToArray();
            for (var k0 = 0; k0 < tokens; k0 += Tile)
            {
                var keys = Enumerable.Range(k0, System.Math.Min(Tile, tokens - k0)).ToArray();
                switch (mask.Classify(queries, keys))
                {
                    case BlockCoverage.Full:
                        count += (long)queries.Length * keys.Length;
                        break;
                    case BlockCoverage.Partial:
                        foreach (var q in queries)
                        {
                            foreach (var k in keys)
                            {
                                count += mask.Allows(q, k) ? 1 : 0;
                            }
                        }

                        break;
                }
            }
        }

        return count;
    }
}
