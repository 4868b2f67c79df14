namespace RingActors.Math;

/// <summary>
/// Sizes of one attention problem in PyTorch's scaled_dot_product_attention layout:
/// Q is [Batch, Heads, SeqLen, HeadDim]; K and V are [Batch, KvHeads, SeqLen, HeadDim], float32, row-major.
/// Heads must be a multiple of KvHeads (multi-head, grouped-query and multi-query attention).
/// </summary>
public sealed record AttentionShape(int Batch, int Heads, int KvHeads, int SeqLen, int HeadDim)
{
    /// <summary>Throws an <see cref="ArgumentException"/> naming the first size that is out of range.</summary>
    public AttentionShape Validate()
    {
        Require(Batch > 0, nameof(Batch), $"batch must be ≥ 1, got {Batch}");
        Require(Heads > 0, nameof(Heads), $"heads must be ≥ 1, got {Heads}");
        Require(KvHeads > 0, nameof(KvHeads), $"kv-heads must be ≥ 1, got {KvHeads}");
        Require(SeqLen > 0, nameof(SeqLen), $"sequence length must be ≥ 1, got {SeqLen}");
        Require(HeadDim > 0, nameof(HeadDim), $"head dimension must be ≥ 1, got {HeadDim}");
        Require(Heads % KvHeads == 0, nameof(Heads), $"heads ({Heads}) must be a multiple of kv-heads ({KvHeads})");
        // Four ints multiply past a long (65536⁴ wraps to 0 and would pass): Int128 holds any product of four.
        var floats = (Int128)Batch * Heads * SeqLen * HeadDim;
        Require(floats <= Array.MaxLength, nameof(SeqLen), $"Q would hold {floats} floats, more than one array can ({Array.MaxLength})");
        return this;
    }

    /// <summary>Query heads that share one key/value head.</summary>
    public int GroupSize => Heads / KvHeads;

    /// <summary>Scale applied to Q·Kᵀ unless the caller gives one: 1/√d.</summary>
    public float DefaultScale => 1f / MathF.Sqrt(HeadDim);

    public int QueryLength => Batch * Heads * SeqLen * HeadDim;

    public int KeyValueLength => Batch * KvHeads * SeqLen * HeadDim;

    /// <summary>The same problem restricted to <paramref name="tokens"/> tokens (a device's chunk or block).</summary>
    public AttentionShape WithSeqLen(int tokens) => this with { SeqLen = tokens };

    private static void Require(bool condition, string parameter, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message, parameter);
        }
    }
}
