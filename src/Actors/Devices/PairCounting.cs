using RingActors.Math;
using RingActors.Math.Masks;

namespace RingActors.Actors.Devices;

/// <summary>
/// The exact work of a (query chunk, key block) pair: the query–key pairs the mask allows, summed over every (batch, head),
/// not the whole tiles the kernel happens to compute. The virtual clock charges these FLOPs, as the ring model does.
/// </summary>
public static class PairCounting
{
    /// <summary>Allowed pairs between <paramref name="queries"/> and <paramref name="keys"/> (global positions), over every (batch, head).</summary>
    public static long AllowedPairs(AttentionOptions options, AttentionHeads heads, ReadOnlySpan<int> queries, ReadOnlySpan<int> keys)
    {
        ArgumentNullException.ThrowIfNull(options);
        var perHeadCount = (long)heads.Batch * heads.Heads;
        if (options.SameMaskForAllHeads)
        {
            return perHeadCount * Count(options.MaskFor(0, 0), queries, keys);
        }

        long total = 0;
        for (var b = 0; b < heads.Batch; b++)
        {
            for (var h = 0; h < heads.Heads; h++)
            {
                total += Count(options.MaskFor(b, h), queries, keys);
            }
        }

        return total;
    }

    /// <summary>FLOPs of <see cref="AllowedPairs"/>: 4·d per pair (2·d for Q·Kᵀ, 2·d for P·V).</summary>
    public static double Flops(AttentionOptions options, AttentionHeads heads, ReadOnlySpan<int> queries, ReadOnlySpan<int> keys) =>
        4.0 * heads.HeadDim * AllowedPairs(options, heads, queries, keys);

    /// <summary>
    /// Pairs a query chunk at <paramref name="positions"/> meets over the whole sequence of <paramref name="seqLen"/> tokens,
    /// per (batch, head): every key, or under the causal mask the keys up to each query. Exact without a pattern, an upper
    /// bound with one; O(chunk), unlike <see cref="AllowedPairs"/> over a pattern. Orders compute, never charges it.
    /// </summary>
    public static long PairsBound(bool causal, int seqLen, ReadOnlySpan<int> positions)
    {
        long pairs = 0;
        foreach (var position in positions)
        {
            pairs += causal ? position + 1 : seqLen;
        }

        return pairs;
    }

    /// <summary>Pairs one mask allows (null: every pair), counted exactly by <see cref="Coverage.CountAllowed"/>.</summary>
    public static long Count(IAttentionMask? mask, ReadOnlySpan<int> queries, ReadOnlySpan<int> keys) =>
        mask is null ? (long)queries.Length * keys.Length : Coverage.CountAllowed(mask, queries, keys);
}
