namespace RingActors.Math.Modelling;

/// <summary>Whether a whole-model plan runs forward and backward (training) or forward only (inference prefill).</summary>
public enum PlanMode
{
    Prefill,
    Training,
}

/// <summary>
/// A decoder-only transformer for the planner: <see cref="Layers"/> layers of attention (H query heads, H_kv key/value
/// heads of size d, projections hidden → H·d and back) and a SwiGLU feed-forward network (three hidden × FFN matrices).
/// <see cref="Fp8FeedForward"/> stores the FFN weights in 8 bits and runs its GEMMs at twice the bf16 peak.
/// </summary>
public sealed record ModelShape(string Name, int Layers, int Hidden, int Heads, int KvHeads, int HeadDim, int FeedForward, int Vocabulary, bool Fp8FeedForward, string Source)
{
    private const string Llama3 = "Llama 3 model card and config.json (ANCHORS.md §6)";

    public static readonly ModelShape Llama3_8B = new("llama3-8b", 32, 4096, 32, 8, 128, 14336, 128256, false, Llama3);

    public static readonly ModelShape Llama3_70B = new("llama3-70b", 80, 8192, 64, 8, 128, 28672, 128256, false, Llama3);

    public static readonly ModelShape Llama3_405B = new("llama3-405b", 126, 16384, 128, 8, 128, 53248, 128256, false, Llama3);

    public static IReadOnlyList<ModelShape> BuiltIns => [Llama3_8B, Llama3_70B, Llama3_405B];

    /// <summary>The built-in model called <paramref name="name"/> (case-insensitive).</summary>
    public static ModelShape Get(string name) =>
        BuiltIns.FirstOrDefault(m => string.Equals(m.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown model '{name}': known models are {string.Join(", ", BuiltIns.Select(m => m.Name))}", nameof(name));

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first value out of range.</summary>
    public ModelShape Validate()
    {
        Require(Layers is >= 1 and <= 10_000, $"layers must be in [1, 10000], got {Layers}");
        Require(Hidden >= 1, $"hidden size must be ≥ 1, got {Hidden}");
        Require(Heads >= 1 && KvHeads >= 1 && Heads % KvHeads == 0, $"heads ({Heads}) must be a positive multiple of kv-heads ({KvHeads})");
        Require(HeadDim >= 1, $"head dimension must be ≥ 1, got {HeadDim}");
        Require(FeedForward >= 1, $"FFN size must be ≥ 1, got {FeedForward}");
        Require(Vocabulary >= 0, $"vocabulary must be ≥ 0, got {Vocabulary}");
        return this;
    }

    /// <summary>Attention weights of one layer: Q and O (hidden × H·d), K and V (hidden × H_kv·d).</summary>
    public double AttentionParameters => (2.0 * Hidden * Heads * HeadDim) + (2.0 * Hidden * KvHeads * HeadDim);

    /// <summary>SwiGLU weights of one layer: gate, up and down, 3 · hidden · FFN.</summary>
    public double FeedForwardParameters => 3.0 * Hidden * FeedForward;

    /// <summary>Every weight: layers × (attention + FFN) + untied input and output embeddings (2 · vocabulary · hidden).</summary>
    public double Parameters => (Layers * (AttentionParameters + FeedForwardParameters)) + (2.0 * Vocabulary * Hidden);

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message);
        }
    }
}
