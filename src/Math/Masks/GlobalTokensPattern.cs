namespace RingActors.Math.Masks;

/// <summary>
/// Global tokens (Longformer; ANCHORS.md §4), symmetric: query i attends key j when j ∈ G (everyone sees the global tokens)
/// or i ∈ G (a global token sees everyone).
/// </summary>
public sealed class GlobalTokensPattern : StaticPattern
{
    private readonly bool[] _isGlobal;

    public GlobalTokensPattern(IEnumerable<int> positions)
    {
        ArgumentNullException.ThrowIfNull(positions);
        var sorted = positions.Distinct().Order().ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("global tokens need at least one position", nameof(positions));
        }

        if (sorted[0] < 0)
        {
            throw new ArgumentException($"global token positions must be ≥ 0, got {sorted[0]}", nameof(positions));
        }

        Positions = sorted;
        _isGlobal = new bool[sorted[^1] + 1];
        foreach (var p in sorted)
        {
            _isGlobal[p] = true;
        }
    }

    /// <summary>The global positions G, sorted and distinct.</summary>
    public IReadOnlyList<int> Positions { get; }

    public override string Name => $"global:{PatternSpec.FormatPositions(Positions)}";

    public override long MemoryBytes => _isGlobal.Length + ((long)Positions.Count * sizeof(int));

    public bool IsGlobal(int position) => (uint)position < (uint)_isGlobal.Length && _isGlobal[position];

    public override bool Allows(int query, int key) => IsGlobal(key) || IsGlobal(query);

    /// <summary>
    /// Exact for any position sets in O(|Q| + |K|): every pair is allowed exactly when all queries or all keys are global
    /// (otherwise a non-global query meets a non-global key), and none is when no query and no key is.
    /// </summary>
    public override BlockCoverage Classify(ReadOnlySpan<int> queries, ReadOnlySpan<int> keys)
    {
        if (queries.IsEmpty || keys.IsEmpty)
        {
            return BlockCoverage.Empty;
        }

        var (anyQuery, allQueries) = Count(queries);
        var (anyKey, allKeys) = Count(keys);
        return allQueries || allKeys ? BlockCoverage.Full
            : anyQuery || anyKey ? BlockCoverage.Partial
            : BlockCoverage.Empty;
    }

    private (bool Any, bool All) Count(ReadOnlySpan<int> positions)
    {
        var global = 0;
        foreach (var p in positions)
        {
            if (IsGlobal(p))
            {
                global++;
            }
        }

        return (global > 0, global == positions.Length);
    }
}
