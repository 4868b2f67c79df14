using System.Text;

namespace RingActors.Math.Masks;

/// <summary>
/// Block-sparse attention from an explicit layout (ANCHORS.md §4): tokens are grouped by global position into blocks of b
/// (the last block may be short), and query i attends key j when <c>layout[⌊i/b⌋, ⌊j/b⌋]</c> is set.
/// The layout is ⌈N/b⌉ × ⌈N/b⌉, stored row-major by query block.
/// </summary>
public class BlockSparsePattern : StaticPattern
{
    private const int StackLimit = 512;
    private readonly bool[] _layout;
    private readonly string? _name;

    /// <param name="layout">⌈N/b⌉ × ⌈N/b⌉ flags: [query block, key block].</param>
    /// <param name="name">How the user wrote the pattern (a layout file's name, say); an inline layout is written out when null.</param>
    public BlockSparsePattern(int blockSize, bool[,] layout, int seqLen, string? name = null)
        : this(blockSize, Flatten(layout, blockSize, seqLen), seqLen, name)
    {
    }

    private protected BlockSparsePattern(int blockSize, bool[] layout, int seqLen, string? name)
    {
        Guard.Positive(blockSize, nameof(blockSize));
        Guard.Positive(seqLen, nameof(seqLen));
        BlockSize = blockSize;
        SeqLen = seqLen;
        Blocks = BlockCount(seqLen, blockSize);
        Guard.Length(layout, (long)Blocks * Blocks, nameof(layout));
        _layout = layout;
        _name = name;
    }

    /// <summary>b, the tokens per block.</summary>
    public int BlockSize { get; }

    public int SeqLen { get; }

    /// <summary>⌈N/b⌉, the blocks per side of the layout.</summary>
    public int Blocks { get; }

    public override string Name => _name ?? $"block:{BlockSize}:{FormatLayout()}";

    public override long MemoryBytes => _layout.LongLength;

    /// <summary>Whether query block <paramref name="queryBlock"/> attends key block <paramref name="keyBlock"/>.</summary>
    public bool BlockAllowed(int queryBlock, int keyBlock) =>
        (uint)queryBlock < (uint)Blocks && (uint)keyBlock < (uint)Blocks && _layout[(queryBlock * Blocks) + keyBlock];

    /// <summary>Number of allowed (query block, key block) pairs.</summary>
    public int AllowedBlocks => _layout.Count(allowed => allowed);

    public override bool Allows(int query, int key) => BlockAllowed(BlockOf(query), BlockOf(key));

    /// <summary>
    /// Exact: every pair of a query block present in <paramref name="queries"/> and a key block present in <paramref name="keys"/>
    /// is reached by some token pair, so the distinct blocks decide. A 64×128 tile of contiguous tokens spans a few blocks.
    /// </summary>
    public override BlockCoverage Classify(ReadOnlySpan<int> queries, ReadOnlySpan<int> keys)
    {
        if (queries.IsEmpty || keys.IsEmpty)
        {
            return BlockCoverage.Empty;
        }

        var queryBuffer = queries.Length <= StackLimit ? stackalloc int[queries.Length] : new int[queries.Length];
        var keyBuffer = keys.Length <= StackLimit ? stackalloc int[keys.Length] : new int[keys.Length];
        var queryBlocks = DistinctBlocks(queries, queryBuffer);
        var keyBlocks = DistinctBlocks(keys, keyBuffer);
        var tally = default(CoverageTally);
        foreach (var qb in queryBlocks)
        {
            foreach (var kb in keyBlocks)
            {
                tally.Add(BlockAllowed(qb, kb));
                if (tally.IsPartial)
                {
                    return BlockCoverage.Partial;
                }
            }
        }

        return tally.Result;
    }

    public override void Validate(AttentionShape shape) => RequireSeqLen(shape, SeqLen);

    /// <summary>⌈N/b⌉.</summary>
    public static int BlockCount(int seqLen, int blockSize) => (int)(((long)seqLen + blockSize - 1) / blockSize);

    /// <summary>The layout written inline: rows of 0/1 separated by '/', e.g. <c>110/111/011</c>.</summary>
    public string FormatLayout()
    {
        var text = new StringBuilder((Blocks + 1) * Blocks);
        for (var row = 0; row < Blocks; row++)
        {
            if (row > 0)
            {
                text.Append('/');
            }

            for (var column = 0; column < Blocks; column++)
            {
                text.Append(_layout[(row * Blocks) + column] ? '1' : '0');
            }
        }

        return text.ToString();
    }

    /// <summary>Block index of a position; −1 (no block) for negative positions.</summary>
    private int BlockOf(int position) => position >= 0 ? position / BlockSize : -1;

    private Span<int> DistinctBlocks(ReadOnlySpan<int> positions, Span<int> buffer)
    {
        var sorted = true;
        for (var i = 0; i < positions.Length; i++)
        {
            buffer[i] = BlockOf(positions[i]);
            sorted &= i == 0 || buffer[i] >= buffer[i - 1];
        }

        if (!sorted)
        {
            buffer.Sort();
        }

        var count = 1;
        for (var i = 1; i < buffer.Length; i++)
        {
            if (buffer[i] != buffer[count - 1])
            {
                buffer[count++] = buffer[i];
            }
        }

        return buffer[..count];
    }

    private static bool[] Flatten(bool[,] layout, int blockSize, int seqLen)
    {
        ArgumentNullException.ThrowIfNull(layout);
        Guard.Positive(blockSize, nameof(blockSize));
        Guard.Positive(seqLen, nameof(seqLen));
        var blocks = BlockCount(seqLen, blockSize);
        if (layout.GetLength(0) != blocks || layout.GetLength(1) != blocks)
        {
            throw new ArgumentException(
                $"layout is {layout.GetLength(0)}×{layout.GetLength(1)}, expected {blocks}×{blocks} (⌈{seqLen}/{blockSize}⌉ blocks per side)", nameof(layout));
        }

        var flat = new bool[blocks * blocks];
        for (var row = 0; row < blocks; row++)
        {
            for (var column = 0; column < blocks; column++)
            {
                flat[(row * blocks) + column] = layout[row, column];
            }
        }

        return flat;
    }
}
