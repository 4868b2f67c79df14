namespace RingActors.Math;

/// <summary>
/// The type the per-block partial results and gradient contributions are kept in before they are merged (the merge itself
/// is always fp32). Bf16 reproduces what peers do on GPUs, where those partials are bf16 tensors (ANCHORS.md §7).
/// </summary>
public enum PartialPrecision
{
    Fp32,
    Bf16,
}

/// <summary>Rounding to bfloat16 (8 exponent bits, 7 mantissa bits) as hardware does it: to nearest, ties to even.</summary>
public static class Bf16
{
    /// <summary>The bf16 value nearest to <paramref name="value"/>, as a float. NaN stays NaN, ±∞ stays ±∞.</summary>
    public static float Round(float value)
    {
        if (float.IsNaN(value))
        {
            return value;
        }

        var bits = BitConverter.SingleToUInt32Bits(value);
        var lsb = (bits >> 16) & 1u;
        bits += 0x7FFFu + lsb; // carries into the exponent round to the next binade, and to ∞ past the largest bf16
        return BitConverter.UInt32BitsToSingle(bits & 0xFFFF0000u);
    }

    /// <summary>Rounds every element of <paramref name="values"/> to bf16 in place.</summary>
    public static void RoundInPlace(Span<float> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Round(values[i]);
        }
    }

    /// <summary>Rounds in place when <paramref name="precision"/> is <see cref="PartialPrecision.Bf16"/>; fp32 leaves the values as they are.</summary>
    public static void Apply(PartialPrecision precision, Span<float> values)
    {
        if (precision == PartialPrecision.Bf16)
        {
            RoundInPlace(values);
        }
    }
}
