namespace RingActors.Math.Masks;

/// <summary>
/// Random attention (BigBird's random keys; ANCHORS.md §4): query i attends r distinct keys drawn uniformly from [0, N)
/// — from [0, i] when causal, so none is wasted — by a generator seeded with (seed, i) alone.
/// The keys of a query therefore never depend on how the sequence is split over devices or in which order rows are visited.
/// </summary>
public sealed class RandomPattern : StaticPattern
{
    private const int Salt = 0x52414e44;
    private readonly KeyListMask _keys;

    public RandomPattern(int keysPerQuery, int seqLen, int seed, bool causal = false)
    {
        Guard.Positive(keysPerQuery, nameof(keysPerQuery));
        Guard.Positive(seqLen, nameof(seqLen));
        KeysPerQuery = keysPerQuery;
        SeqLen = seqLen;
        Seed = seed;
        Causal = causal;
        var perRow = System.Math.Min(keysPerQuery, seqLen);
        var scratch = new HashSet<int>();
        _keys = KeyListMask.Build(seqLen, perRow, (query, buffer) =>
        {
            var range = causal ? query + 1 : seqLen;
            var count = System.Math.Min(perRow, range);
            var rng = new SplitMix64(seed, query, Salt);
            rng.Sample(range, buffer[..count], scratch);
            return count;
        });
    }

    /// <summary>r, the keys each query draws (fewer only when fewer exist).</summary>
    public int KeysPerQuery { get; }

    public int SeqLen { get; }

    public int Seed { get; }

    /// <summary>Keys are drawn from [0, i] rather than [0, N).</summary>
    public bool Causal { get; }

    public override string Name => $"random:{KeysPerQuery}";

    public override bool IsCausal => Causal;

    public override long MemoryBytes => _keys.MemoryBytes;

    /// <summary>The sorted keys query <paramref name="query"/> attends.</summary>
    public ReadOnlySpan<int> KeysOf(int query) => _keys.KeysOf(query);

    public override bool Allows(int query, int key) => _keys.Allows(query, key);

    public override BlockCoverage Classify(ReadOnlySpan<int> queries, ReadOnlySpan<int> keys) => _keys.Classify(queries, keys);

    public override void Validate(AttentionShape shape) => RequireSeqLen(shape, SeqLen);
}
