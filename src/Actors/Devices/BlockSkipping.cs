using RingActors.Math;
using RingActors.Math.Masks;

namespace RingActors.Actors.Devices;

/// <summary>Decides from the positions alone whether a (query chunk, key block) pair is wholly masked, so it is skipped, not computed.</summary>
public static class BlockSkipping
{
    /// <summary>
    /// True when no query of <paramref name="queries"/> may attend any key of <paramref name="keys"/> under
    /// <paramref name="options"/> in any (batch, head): the mask's exact <see cref="IAttentionMask.Classify"/> says Empty.
    /// </summary>
    public static bool IsEmpty(AttentionOptions options, AttentionHeads heads, ReadOnlySpan<int> queries, ReadOnlySpan<int> keys)
    {
        if (queries.IsEmpty || keys.IsEmpty)
        {
            return true;
        }

        if (options.SameMaskForAllHeads)
        {
            var mask = options.MaskFor(0, 0);
            return mask is not null && mask.Classify(queries, keys) == BlockCoverage.Empty;
        }

        for (var b = 0; b < heads.Batch; b++)
        {
            for (var h = 0; h < heads.Heads; h++)
            {
                var mask = options.MaskFor(b, h);
                if (mask is null || mask.Classify(queries, keys) != BlockCoverage.Empty)
                {
                    return false;
                }
            }
        }

        return true;
    }
}
