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

    /// <summary>eˣ by range reduction and a degree-6 polynomial (relative error ≤ 8.4e-8); exactly 0 below −87.3 (and for −∞).</summary>
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

        // vreduceps gives the fraction t − round(t) in one instruction where rounding by a magic constant took two; with the
        // degree-6 polynomial, 14 vector operations per exp(s − max) + sum against 16 (all 512-bit arithmetic shares two ports
        // on Intel): +1.3–2.8% on the whole forward kernel (N = 4096, d = 64, one thread, in-process A/B runs in turns on an
        // Intel Xeon, family 6 model 167). Rounding down instead would leave out the n = t − f too, but t − ⌊t⌋ is not exact
        // for negative t (it needs a bit below t's last), and vreduceps rounds it otherwise than a subtraction: the paths
        // would not agree.
        // t − round(t) and n are exact, vscalefps's p·2ⁿ is exactly rounded, so this route, the 256-bit one and the
        // scalar tail agree bit for bit.
        // Vector512 is accelerated only where AVX-512 F, BW, CD, DQ and VL all are, so vreduceps (DQ) is always there.
        var fraction = Avx512DQ.Reduce(clamped, ExpConstants.ReduceNearest);
        var scaled = Avx512F.Scale(ExpConstants.Polynomial<Simd512, Vector512<float>>(fraction), clamped - fraction);
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
/// Constants of the vector exponential: eˣ = 2ᵗ with t = x·log₂e, split as 2ⁿ · 2^f with n = round(t) and f = t − n in
/// [−½, ½] (both exact); 2^f by a degree-6 polynomial fitted for least maximum relative error on [−½, ½] with p(0) = 1 exactly
/// (the row max weighs exactly 1), 2ⁿ by scaling (exponent bits or vscalefps). Evaluated in fp32 with FMAs the result is
/// within 8.4e-8 of 2ᵗ relative (1.4 ulp; numpy in float64 over 200 001 points of [−½, ½]), as the degree-7 Taylor series
/// it replaced was (7.7e-8), one FMA sooner.
/// </summary>
internal static class ExpConstants
{
    public const float MinExponent = -126f; // below this 2ᵗ (eˣ below −87.3) is subnormal in float: return exactly 0
    public const float MaxExponent = 127.49f; // rounds to 127 at most: 2ⁿ stays a normal float
    public const float Log2E = 1.44269504088896341f;
    public const float RoundMagic = 12582912f; // 1.5·2²³: adding and subtracting it rounds to nearest, ties to even

    /// <summary>vreduceps control: keep no fraction bits, round to nearest even (x − round(x)), suppress the precision exception.</summary>
    public const byte ReduceNearest = 0x08;

    public const float C1 = 0.6931471824645996f;
    public const float C2 = 0.24022647738456726f;
    public const float C3 = 0.055503323674201965f;
    public const float C4 = 0.00961843691766262f;
    public const float C5 = 0.0013398868031799793f;
    public const float C6 = 0.0001535334304207936f;

    /// <summary>2^f for f in [−½, ½], Horner's rule on the vector path <typeparamref name="TOps"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Polynomial<TOps, TVec>(TVec f)
        where TOps : struct, ISimd<TVec>
        where TVec : struct
    {
        var p = TOps.Broadcast(C6);
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
        var p = C6;
        p = MathF.FusedMultiplyAdd(p, f, C5);
        p = MathF.FusedMultiplyAdd(p, f, C4);
        p = MathF.FusedMultiplyAdd(p, f, C3);
        p = MathF.FusedMultiplyAdd(p, f, C2);
        p = MathF.FusedMultiplyAdd(p, f, C1);
        p = MathF.FusedMultiplyAdd(p, f, 1f);
        return p * BitConverter.Int32BitsToSingle(((int)rounded + 127) << 23);
    }
}
