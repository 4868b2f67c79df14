namespace RingActors.Math.Masks;

/// <summary>
/// BigBird (Zaheer et al. 2020; ANCHORS.md §4) at block granularity b: query block B attends key block C when
/// |B − C| ≤ 1 (3 window blocks), B &lt; g or C &lt; g (the first g blocks are global, both ways), or C is one of the r random
/// blocks drawn for B. Random blocks are distinct, drawn among the blocks not already attended (and only from C ≤ B when causal),
/// by a generator seeded with (seed, B) alone.
/// </summary>
public sealed class BigBirdPattern : BlockSparsePattern
{
    private const int Salt = 0x42494742;

    public BigBirdPattern(int blockSize, int globalBlocks, int randomBlocks, int seqLen, int seed, bool causal = false)
        : base(blockSize, BuildLayout(blockSize, globalBlocks, randomBlocks, seqLen, seed, causal), seqLen, $"bigbird:{blockSize}:{globalBlocks}:{randomBlocks}")
    {
        GlobalBlocks = globalBlocks;
        RandomBlocks = randomBlocks;
        Seed = seed;
        Causal = causal;
    }

    /// <summary>g, the leading blocks that attend and are attended by every block.</summary>
    public int GlobalBlocks { get; }

    /// <summary>r, the random key blocks per query block (fewer only when fewer are left to draw).</summary>
    public int RandomBlocks { get; }

    public int Seed { get; }

    /// <summary>Random blocks are drawn from key blocks at or before the query block.</summary>
    public bool Causal { get; }

    private static bool[] BuildLayout(int blockSize, int globalBlocks, int randomBlocks, int seqLen, int seed, bool causal)
    {
        Guard.Positive(blockSize, nameof(blockSize));
        Guard.Positive(seqLen, nameof(seqLen));
        var blocks = BlockCount(seqLen, blockSize);
        if (globalBlocks < 0 || globalBlocks > blocks)
        {
            throw new ArgumentException($"global blocks g must be in 0..{blocks} (the blocks of {seqLen} tokens), got {globalBlocks}", nameof(globalBlocks));
        }

        if (randomBlocks < 0)
        {
            throw new ArgumentException($"random blocks r must be ≥ 0, got {randomBlocks}", nameof(randomBlocks));
        }

        var layout = new bool[blocks * blocks];
        var eligible = new List<int>(blocks);
        var scratch = new HashSet<int>();
        var chosen = new int[System.Math.Min(randomBlocks, blocks)];
        for (var q = 0; q < blocks; q++)
        {
            var row = layout.AsSpan(q * blocks, blocks);
            eligible.Clear();
            for (var k = 0; k < blocks; k++)
            {
                row[k] = System.Math.Abs(q - k) <= 1 || q < globalBlocks || k < globalBlocks;
                if (!row[k] && (!causal || k <= q))
                {
                    eligible.Add(k);
                }
            }

            var count = System.Math.Min(chosen.Length, eligible.Count);
            var rng = new SplitMix64(seed, q, Salt);
            rng.Sample(eligible.Count, chosen.AsSpan(0, count), scratch);
            foreach (var index in chosen.AsSpan(0, count))
            {
                row[eligible[index]] = true;
            }
        }

        return layout;
    }
}
