namespace RingActors.Math.Modelling;

/// <summary>The element type tensors travel and are stored in on the modelled accelerators.</summary>
public enum ElementType
{
    Bf16,
    Fp16,
    Fp32,
}

/// <summary>Sizes and names of <see cref="ElementType"/>.</summary>
public static class ElementTypes
{
    /// <summary>Bytes of one element: 2 for bf16 and fp16, 4 for fp32.</summary>
    public static int Bytes(this ElementType type) => type switch
    {
        ElementType.Bf16 or ElementType.Fp16 => 2,
        ElementType.Fp32 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown element type"),
    };

    /// <summary>Parses <c>bf16</c>, <c>fp16</c> or <c>fp32</c> (case-insensitive).</summary>
    public static ElementType Parse(string name) => name?.Trim().ToUpperInvariant() switch
    {
        "BF16" => ElementType.Bf16,
        "FP16" or "F16" => ElementType.Fp16,
        "FP32" or "F32" => ElementType.Fp32,
        _ => throw new ArgumentException($"unknown dtype '{name}': expected bf16, fp16 or fp32", nameof(name)),
    };
}
