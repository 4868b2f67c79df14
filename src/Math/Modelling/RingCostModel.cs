namespace RingActors.Math.Modelling;

/// <summary>One row of the paper's Table 2 as RingActors computes it, next to the values the paper prints.</summary>
/// <param name="MinBlockK">Minimal block size c = F/B, in thousands of tokens.</param>
/// <param name="MinSeqK">Sequence length per device s = 6·c, in thousands of tokens.</param>
public sealed record Table2Row(
    string Profile,
    double PeakTflops,
    double HbmGb,
    double BandwidthGBs,
    double MinBlockK,
    double MinSeqK,
    double PrintedMinBlockK,
    double PrintedMinSeqK);

/// <summary>
/// The closed-form cost model of Ring Attention (Liu, Zaharia, Abbeel, ICLR 2024; ANCHORS.md §1): FLOPs and bytes of
/// one ring step, the block size at which the hand-off hides behind the compute, and activation memory per layer.
/// </summary>
public static class RingCostModel
{
    /// <summary>The paper counts thousands as 1000 tokens: with K = 1000 every printed s agrees with 6·F/B within 0.7%, with K = 1024 three rows miss by 2–3%.</summary>
    public const double K = 1000;

    /// <summary>The paper's sequence length per device for a block size c: s = 6·c.</summary>
    public const double SeqPerBlock = 6;

    // Table 2 as printed: profile name, min c (K), min s (K).
    private static readonly (string Profile, double MinBlockK, double MinSeqK)[] PrintedTable2 =
    [
        ("a100-nvlink", 1.0, 6.2),
        ("a100-infiniband", 24.5, 149.5),
        ("tpu-v3", 1.1, 6.6),
        ("tpu-v4", 1.0, 6.2),
        ("tpu-v5e", 1.1, 6.3),
    ];

    /// <summary>FLOPs of <paramref name="pairs"/> query–key pairs: 4·d per pair per query head (2·d for Q·Kᵀ, 2·d for P·V), times batch.</summary>
    public static double PairFlops(long pairs, int headDim, int heads, int batch = 1) => 4.0 * headDim * heads * batch * pairs;

    /// <summary>FLOPs of one full ring step: a chunk of <paramref name="queryTokens"/> against a block of <paramref name="keyTokens"/>, 4·c_q·c_k·d·H·b (4·d·c² per head for c_q = c_k = c).</summary>
    public static double StepFlops(long queryTokens, long keyTokens, int headDim, int heads, int batch = 1) =>
        PairFlops(queryTokens * keyTokens, headDim, heads, batch);

    /// <summary>Bytes of one hand-off: the K and V of a block, 2·c·d·H_kv·b elements of the element type.</summary>
    public static long HandOffBytes(long blockTokens, int headDim, int kvHeads, ElementType type, int batch = 1) =>
        2L * blockTokens * headDim * kvHeads * batch * type.Bytes();

    /// <summary>
    /// Smallest block size c (tokens) at which a step's compute lasts at least as long as its hand-off, ignoring latency.
    /// Compute 4·d·c²·H / F_eff ≥ transfer 2·c·d·H_kv·e / B gives c ≥ (e/2)·(H_kv/H)·F_eff/B, e the element bytes.
    /// For multi-head bf16 (e = 2, H_kv = H) it is the paper's c ≥ F/B; fp32 doubles it; grouped-query attention
    /// divides it by the group size, since fewer K/V heads travel for the same compute.
    /// </summary>
    public static double MinBlockSize(DeviceProfile profile, ElementType type = ElementType.Bf16, int heads = 1, int kvHeads = 1)
    {
        ArgumentNullException.ThrowIfNull(profile);
        RequireHeads(heads, kvHeads);
        return type.Bytes() / 2.0 * kvHeads / heads * profile.EffectiveFlops / profile.LinkBandwidth;
    }

    /// <summary>
    /// <see cref="MinBlockSize"/> with the link latency λ counted: 4·d·H·c²/F_eff ≥ 2·d·H_kv·e·c/B + λ, the positive
    /// root of a·c² − b·c − λ = 0 with a = 4·d·H/F_eff, b = 2·d·H_kv·e/B. Equals <see cref="MinBlockSize"/> when λ = 0.
    /// </summary>
    public static double MinBlockSizeWithLatency(DeviceProfile profile, ElementType type, int headDim, int heads, int kvHeads)
    {
        ArgumentNullException.ThrowIfNull(profile);
        RequireHeads(heads, kvHeads);
        if (headDim <= 0)
        {
            throw new ArgumentException($"head dimension must be ≥ 1, got {headDim}", nameof(headDim));
        }

        var a = 4.0 * headDim * heads / profile.EffectiveFlops;
        var b = 2.0 * headDim * kvHeads * type.Bytes() / profile.LinkBandwidth;
        return (b + System.Math.Sqrt((b * b) + (4 * a * profile.LinkLatency))) / (2 * a);
    }

    /// <summary>The paper's sequence length per device for block size <paramref name="blockSize"/>: s = 6·c.</summary>
    public static double MinSeqPerDevice(double blockSize) => SeqPerBlock * blockSize;

    /// <summary>Vanilla attention's activation memory per layer: 2·b·h·s² bytes in bf16, scaled by the element size.</summary>
    public static double VanillaActivationBytes(long batch, long hidden, long seq, ElementType type = ElementType.Bf16) =>
        2.0 * batch * hidden * seq * seq * Scale(type);

    /// <summary>Memory-efficient attention's activation memory per layer: 8·b·s·h bytes in bf16, scaled by the element size.</summary>
    public static double MemoryEfficientActivationBytes(long batch, long hidden, long seq, ElementType type = ElementType.Bf16) =>
        8.0 * batch * seq * hidden * Scale(type);

    /// <summary>Blockwise parallel transformer (BPT) activation memory per layer: 2·b·s·h bytes in bf16, scaled by the element size.</summary>
    public static double BlockwiseActivationBytes(long batch, long hidden, long seq, ElementType type = ElementType.Bf16) =>
        2.0 * batch * seq * hidden * Scale(type);

    /// <summary>
    /// Ring Attention's activation memory per device per layer: 6·b·c·h bytes in bf16 (one query block, two current and
    /// two incoming K/V blocks, one output block), scaled by the element size; independent of the sequence length.
    /// </summary>
    public static double RingActivationBytes(long batch, long hidden, long blockSize, ElementType type = ElementType.Bf16) =>
        6.0 * batch * blockSize * hidden * Scale(type);

    /// <summary>
    /// The paper's Table 2 recomputed from its own F and B: min c = F/B and min s = 6·F/B, in units of <see cref="K"/>
    /// tokens, with the printed values alongside.
    /// </summary>
    public static IReadOnlyList<Table2Row> Table2() =>
        [.. PrintedTable2.Select(row =>
        {
            var profile = ProfileCatalog.Get(row.Profile);
            var c = MinBlockSize(profile);
            return new Table2Row(profile.Name, profile.PeakFlops / 1e12, profile.MemoryBytes / (double)(1L << 30), profile.LinkBandwidth / 1e9,
                c / K, MinSeqPerDevice(c) / K, row.MinBlockK, row.MinSeqK);
        })];

    // The paper's memory figures are bf16 bytes (2 per element).
    private static double Scale(ElementType type) => type.Bytes() / 2.0;

    private static void RequireHeads(int heads, int kvHeads)
    {
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0)
        {
            throw new ArgumentException($"heads ({heads}) must be a positive multiple of kv-heads ({kvHeads})", nameof(heads));
        }
    }
}
