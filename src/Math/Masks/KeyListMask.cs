namespace RingActors.Math.Masks;

/// <summary>
/// A mask given as an explicit sorted list of keys per query position (compressed sparse rows): query q attends the keys
/// <c>Keys[RowStart[q] .. RowStart[q + 1])</c>. Random and top-k patterns are stored this way: |rows|·k integers instead of N² bits.
/// Queries outside the rows attend nothing.
/// </summary>
public sealed class KeyListMask : IAttentionMask
{
    private readonly int[] _keys;
    private readonly int[] _rowStart;

    /// <param name="keys">Every row's keys, each row sorted ascending without repeats.</param>
    /// <param name="rowStart">Where each row starts in <paramref name="keys"/>, one entry per row plus the end.</param>
    public KeyListMask(int[] keys, int[] rowStart)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(rowStart);
        if (rowStart.Length == 0 || rowStart[0] != 0 || rowStart[^1] != keys.Length)
        {
            throw new ArgumentException($"rowStart must run from 0 to the key count {keys.Length}", nameof(rowStart));
        }

        for (var row = 0; row + 1 < rowStart.Length; row++)
        {
            if (rowStart[row + 1] < rowStart[row])
            {
                throw new ArgumentException($"rowStart decreases at row {row}", nameof(rowStart));
            }

            for (var i = rowStart[row] + 1; i < rowStart[row + 1]; i++)
            {
                if (keys[i] <= keys[i - 1])
                {
                    throw new ArgumentException($"keys of row {row} are not strictly increasing", nameof(keys));
                }
            }
        }

        _keys = keys;
        _rowStart = rowStart;
    }

    /// <summary>Number of query rows.</summary>
    public int Rows => _rowStart.Length - 1;

    /// <summary>Total number of (query, key) entries.</summary>
    public long Count => _keys.Length;

    public long MemoryBytes => ((long)_keys.Length + _rowStart.Length) * sizeof(int);

    /// <summary>The sorted keys query <paramref name="query"/> attends (empty outside the rows).</summary>
    public ReadOnlySpan<int> KeysOf(int query) =>
        (uint)query < (uint)Rows ? _keys.AsSpan(_rowStart[query], _rowStart[query + 1] - _rowStart[query]) : [];

    public bool Allows(int query, int key) => KeysOf(query).BinarySearch(key) >= 0;

    /// <summary>
    /// Exact. Per query, the number of its keys inside the key set: by two binary searches when the keys are contiguous,
    /// by a binary search per listed key when they are sorted; brute force otherwise.
    /// </summary>
    public BlockCoverage Classify(ReadOnlySpan<int> queries, ReadOnlySpan<int> keys)
    {
        if (queries.IsEmpty || keys.IsEmpty)
        {
            return BlockCoverage.Empty;
        }

        var k = PositionSet.Of(keys);
        if (!k.IsSorted)
        {
            return Coverage.BruteForce(this, queries, keys);
        }

        var distinct = k.IsContiguous ? keys.Length : PositionSet.DistinctSorted(keys);
        var tally = default(CoverageTally);
        foreach (var query in queries)
        {
            var row = KeysOf(query);
            var from = PositionSet.LowerBound(row, k.Min);
            var to = PositionSet.UpperBound(row, k.Max);
            int inside;
            if (k.IsContiguous)
            {
                inside = to - from;
            }
            else
            {
                inside = 0;
                foreach (var listed in row[from..to])
                {
                    if (keys.BinarySearch(listed) >= 0)
                    {
                        inside++;
                    }
                }
            }

            if (inside > 0)
            {
                tally.AnyAllowed = true;
            }

            if (inside < distinct)
            {
                tally.AnyRefused = true;
            }

            if (tally.IsPartial)
            {
                return BlockCoverage.Partial;
            }
        }

        return tally.Result;
    }

    /// <summary>Builds the mask of <paramref name="rows"/> query rows, each filled by <paramref name="fill"/> into a buffer of at most <paramref name="maxPerRow"/> keys.</summary>
    internal static KeyListMask Build(int rows, int maxPerRow, RowFiller fill)
    {
        var rowStart = new int[rows + 1];
        var keys = new int[checked(rows * maxPerRow)];
        var used = 0;
        for (var row = 0; row < rows; row++)
        {
            used += fill(row, keys.AsSpan(used, maxPerRow));
            rowStart[row + 1] = used;
        }

        return new KeyListMask(used == keys.Length ? keys : keys[..used], rowStart);
    }

    /// <summary>Writes one row's sorted keys into the buffer and returns how many.</summary>
    internal delegate int RowFiller(int row, Span<int> buffer);
}
