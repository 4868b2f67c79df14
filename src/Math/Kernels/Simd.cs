using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RingActors.Math.Kernels;

/// <summary>
/// The vector operations the attention micro-kernels need, as a static-abstract interface so one kernel body
/// is specialised by the JIT for 512-bit and 256-bit vectors (no virtual calls, everything inlined).
/// </summary>
internal interface ISimd<TVec>
    where TVec : struct
{
    static abstract int Count { get; }

    static abstract TVec Zero { get; }

    static abstract TVec Load(ref float source, nuint offset);

    static abstract void Store(TVec value, ref float destination, nuint offset);

    static abstract TVec Broadcast(float value);

    /// <summary>a·b + c, fused.</summary>
    static abstract TVec MultiplyAdd(TVec a, TVec b, TVec c);

    static abstract TVec Multiply(TVec a, TVec b);

    static abstract TVec Subtract(TVec a, TVec b);

    static abstract TVec Add(TVec a, TVec b);

    static abstract TVec Max(TVec a, TVec b);

    static abstract float MaxAcross(TVec value);

    static abstract float SumAcross(TVec value);

    /// <summary>eˣ by range reduction and a degree-7 polynomial (relative error ≈ 1e-7); exactly 0 below −87.3 (and for −∞).</summary>
    static abstract TVec Exp(TVec x);

    /// <summary>2ᵗ as <see cref="Exp"/> computes it: exactly 0 below −126 (and for −∞), saturating near 2¹²⁷·√2 above 127.</summary>
    static abstract TVec Exp2(TVec t);
}

internal readonly struct Simd512 : ISimd<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;

    public static Vector512<float> Zero => Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ref float source, nuint offset) => Vector512.LoadUnsafe(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    // MaxNative: the IEEE-exact Max compiles to a slow fix-up sequence (ANCHORS.md §5); inputs here are never NaN.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.MaxNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector512<float> value) =>
        Simd256.MaxAcross(Vector256.MaxNative(value.GetLower(), value.GetUpper()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SumAcross(Vector512<float> value) => Vector512.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x) => Exp2(x * Vector512.Create(ExpConstants.Log2E));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp2(Vector512<float> t)
    {
        var clamped = Vector512.MinNative(t, Vector512.Create(ExpConstants.MaxExponent));
        var rounded = (clamped + Vector512.Create(ExpConstants.RoundMagic)) - Vector512.Create(ExpConstants.RoundMagic);
        var p = ExpConstants.Polynomial<Simd512, Vector512<float>>(clamped - rounded);

        // vscalefps multiplies by 2^rounded in one instruction where the exponent bits take four (convert, add, shift,
        // multiply), and the JIT folds the compare into its zero mask: 12.2 against 15.1 cycles per vector of
        // exp(s − max) + sum over 128-float rows, measured on an Intel Xeon (family 6 model 207), where all 512-bit
        // arithmetic shares two ports.
        // Both give p·2^rounded exactly rounded, so the two routes and the scalar tail agree bit for bit.
        var scaled = Avx512F.IsSupported
            ? Avx512F.Scale(p, rounded)
            : p * Vector512.ShiftLeft(Vector512.ConvertToInt32Native(rounded) + Vector512.Create(127), 23).AsSingle();
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(t, Vector512.Create(ExpConstants.MinExponent)), scaled, Vector512<float>.Zero);
    }
}

internal readonly struct Simd256 : ISimd<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;

    public static Vector256<float> Zero => Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(ref float source, nuint offset) => Vector256.LoadUnsafe(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.MaxNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector256<float> value)
    {
        // Shuffles, not MathF.Max: its NaN and signed-zero rules cost two fix-ups a step (vrangess, vfixupimmss ×2), on
        // every row of every tile. Inputs here are never NaN.
        var half = Vector128.MaxNative(value.GetLower(), value.GetUpper());
        half = Vector128.MaxNative(half, Vector128.Shuffle(half, Vector128.Create(2, 3, 0, 1)));
        return Vector128.MaxNative(half, Vector128.Shuffle(half, Vector128.Create(1, 0, 3, 2))).ToScalar();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SumAcross(Vector256<float> value) => Vector256.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x) => Exp2(x * Vector256.Create(ExpConstants.Log2E));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp2(Vector256<float> t)
    {
        var clamped = Vector256.MinNative(t, Vector256.Create(ExpConstants.MaxExponent));
        var rounded = (clamped + Vector256.Create(ExpConstants.RoundMagic)) - Vector256.Create(ExpConstants.RoundMagic);
        var p = ExpConstants.Polynomial<Simd256, Vector256<float>>(clamped - rounded);
        var scaled = p * Vector256.ShiftLeft(Vector256.ConvertToInt32Native(rounded) + Vector256.Create(127), 23).AsSingle();
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(t, Vector256.Create(ExpConstants.MinExponent)), scaled, Vector256<float>.Zero);
    }
}

/// <summary>
/// Constants of the vector exponential: eˣ = 2ᵗ with t = x·log₂e; 2^f on [−½, ½] by its Taylor series in f·ln 2, 2^n by
/// scaling (exponent bits or vscalefps).
/// </summary>
internal static class ExpConstants
{
    public const float MinExponent = -126f; // below this 2ᵗ (eˣ below −87.3) is subnormal in float: return exactly 0
    public const float MaxExponent = 127.49f; // rounds to 127 at most: 2ⁿ stays a normal float
    public const float Log2E = 1.44269504088896341f;
    public const float RoundMagic = 12582912f; // 1.5·2²³: adding and subtracting it rounds to nearest
    public const float C1 = 0.693147180559945f;
    public const float C2 = 0.240226506959101f;
    public const float C3 = 0.0555041086648216f;
    public const float C4 = 0.00961812910762848f;
    public const float C5 = 0.00133335581464284f;
    public const float C6 = 0.000154035303933816f;
    public const float C7 = 0.0000152527338040598f;

    /// <summary>2^f for f in [−½, ½], Horner's rule on the vector path <typeparamref name="TOps"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Polynomial<TOps, TVec>(TVec f)
        where TOps : struct, ISimd<TVec>
        where TVec : struct
    {
        var p = TOps.Broadcast(C7);
        p = TOps.MultiplyAdd(p, f, TOps.Broadcast(C6));
        p = TOps.MultiplyAdd(p, f, TOps.Broadcast(C5));
        p = TOps.MultiplyAdd(p, f, TOps.Broadcast(C4));
        p = TOps.MultiplyAdd(p, f, TOps.Broadcast(C3));
        p = TOps.MultiplyAdd(p, f, TOps.Broadcast(C2));
        p = TOps.MultiplyAdd(p, f, TOps.Broadcast(C1));
        return TOps.MultiplyAdd(p, f, TOps.Broadcast(1f));
    }

    /// <summary>The same computation in scalar code, for tails; agrees with the vector lanes bit for bit.</summary>
    public static float Exp(float x)
    {
        var t = x * Log2E;
        if (!(t >= MinExponent))
        {
            return 0f;
        }

        var clamped = MathF.Min(t, MaxExponent);
        var rounded = (clamped + RoundMagic) - RoundMagic;
        var f = clamped - rounded;
        var p = C7;
        p = MathF.FusedMultiplyAdd(p, f, C6);
        p = MathF.FusedMultiplyAdd(p, f, C5);
        p = MathF.FusedMultiplyAdd(p, f, C4);
        p = MathF.FusedMultiplyAdd(p, f, C3);
        p = MathF.FusedMultiplyAdd(p, f, C2);
        p = MathF.FusedMultiplyAdd(p, f, C1);
        p = MathF.FusedMultiplyAdd(p, f, 1f);
        return p * BitConverter.Int32BitsToSingle(((int)rounded + 127) << 23);
    }
}
