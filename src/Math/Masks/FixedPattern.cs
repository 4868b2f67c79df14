namespace RingActors.Math.Masks;

/// <summary>
/// Fixed pattern of the Sparse Transformer (Child et al. 2019; ANCHORS.md §4), block l and c summary keys per block:
/// query i attends key j when ⌊j/l⌋ = ⌊i/l⌋ (same block) or j mod l ∈ {l − c, …, l − 1} (the last c keys of every block).
/// Bidirectional as defined; a causal run intersects it with the causal mask, as the paper's decoder does.
/// </summary>
public sealed class FixedPattern : StaticPattern
{
    public FixedPattern(int blockLength, int summaryKeys)
    {
        Guard.Positive(blockLength, nameof(blockLength));
        if (summaryKeys < 0 || summaryKeys > blockLength)
        {
            throw new ArgumentException($"summary keys c must be in 0..{blockLength} (the block length), got {summaryKeys}", nameof(summaryKeys));
        }

        BlockLength = blockLength;
        SummaryKeys = summaryKeys;
    }

    /// <summary>The block length l.</summary>
    public int BlockLength { get; }

    /// <summary>The number c of summary keys at the end of every block.</summary>
    public int SummaryKeys { get; }

    public override string Name => $"fixed:{BlockLength}:{SummaryKeys}";

    public override bool Allows(int query, int key) => IsSummary(key) || Block(query) == Block(key);

    /// <summary>
    /// Exact: Full when every key is a summary key, or when the non-summary keys and all queries share one block;
    /// Empty when no key is a summary key and no query shares a block with a key (a merge walk on sorted sets, brute force otherwise).
    /// </summary>
    public override BlockCoverage Classify(ReadOnlySpan<int> queries, ReadOnlySpan<int> keys)
    {
        if (queries.IsEmpty || keys.IsEmpty)
        {
            return BlockCoverage.Empty;
        }

        var anySummary = false;
        long plainMin = long.MaxValue, plainMax = long.MinValue;
        foreach (var key in keys)
        {
            if (IsSummary(key))
            {
                anySummary = true;
            }
            else
            {
                var block = Block(key);
                plainMin = System.Math.Min(plainMin, block);
                plainMax = System.Math.Max(plainMax, block);
            }
        }

        if (plainMin == long.MaxValue)
        {
            return BlockCoverage.Full;
        }

        var q = PositionSet.Of(queries);
        var queryBlockMin = Block(q.Min);
        var queryBlockMax = Block(q.Max);
        if (plainMin == plainMax && queryBlockMin == plainMin && queryBlockMax == plainMin)
        {
            return BlockCoverage.Full;
        }

        // Not Full, so some pair is refused: Partial exactly when some pair is allowed.
        if (anySummary)
        {
            return BlockCoverage.Partial;
        }

        var k = PositionSet.Of(keys);
        if (Block(k.Max) < queryBlockMin || Block(k.Min) > queryBlockMax)
        {
            return BlockCoverage.Empty;
        }

        if (q.IsSorted && k.IsSorted)
        {
            // Floor division keeps blocks in the order of their positions, so a merge walk finds a shared block.
            int a = 0, b = 0;
            while (a < queries.Length && b < keys.Length)
            {
                int qb = Block(queries[a]), kb = Block(keys[b]);
                if (qb == kb)
                {
                    return BlockCoverage.Partial;
                }

                if (qb < kb)
                {
                    a++;
                }
                else
                {
                    b++;
                }
            }

            return BlockCoverage.Empty;
        }

        return Coverage.BruteForce(this, queries, keys);
    }

    private bool IsSummary(int key) => Modulo(key) >= BlockLength - SummaryKeys;

    private int Block(int position) => position >= 0 ? position / BlockLength : ((position + 1) / BlockLength) - 1;

    private int Modulo(int position) => ((position % BlockLength) + BlockLength) % BlockLength;
}
