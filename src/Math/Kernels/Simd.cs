using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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

    /// <summary>eˣ by range reduction and a degree-7 polynomial (relative error ≈ 1e-7); exactly 0 below −87.3.</summary>
    static abstract TVec Exp(TVec x);
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
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var clamped = Vector512.MaxNative(x, Vector512.Create(ExpConstants.MinInput));
        clamped = Vector512.MinNative(clamped, Vector512.Create(ExpConstants.MaxInput));
        var t = clamped * Vector512.Create(ExpConstants.Log2E);
        var rounded = (t + Vector512.Create(ExpConstants.RoundMagic)) - Vector512.Create(ExpConstants.RoundMagic);
        var f = t - rounded;
        var p = Vector512.Create(ExpConstants.C7);
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(ExpConstants.C6));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(ExpConstants.C5));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(ExpConstants.C4));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(ExpConstants.C3));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(ExpConstants.C2));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(ExpConstants.C1));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(1f));
        var exponent = Vector512.ShiftLeft(Vector512.ConvertToInt32Native(rounded) + Vector512.Create(127), 23);
        var result = p * exponent.AsSingle();
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(ExpConstants.MinInput)), Vector512<float>.Zero, result);
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
        var half = Vector128.MaxNative(value.GetLower(), value.GetUpper());
        var result = half[0];
        for (var i = 1; i < Vector128<float>.Count; i++)
        {
            result = MathF.Max(result, half[i]);
        }

        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SumAcross(Vector256<float> value) => Vector256.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var clamped = Vector256.MaxNative(x, Vector256.Create(ExpConstants.MinInput));
        clamped = Vector256.MinNative(clamped, Vector256.Create(ExpConstants.MaxInput));
        var t = clamped * Vector256.Create(ExpConstants.Log2E);
        var rounded = (t + Vector256.Create(ExpConstants.RoundMagic)) - Vector256.Create(ExpConstants.RoundMagic);
        var f = t - rounded;
        var p = Vector256.Create(ExpConstants.C7);
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(ExpConstants.C6));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(ExpConstants.C5));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(ExpConstants.C4));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(ExpConstants.C3));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(ExpConstants.C2));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(ExpConstants.C1));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(1f));
        var exponent = Vector256.ShiftLeft(Vector256.ConvertToInt32Native(rounded) + Vector256.Create(127), 23);
        var result = p * exponent.AsSingle();
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(ExpConstants.MinInput)), Vector256<float>.Zero, result);
    }
}

/// <summary>Constants of the vector exponential: 2^f on [−½, ½] by its Taylor series in f·ln 2, 2^n by exponent bits.</summary>
internal static class ExpConstants
{
    public const float MinInput = -87.33f; // below this eˣ is subnormal in float: return exactly 0
    public const float MaxInput = 88.37f;
    public const float Log2E = 1.44269504088896341f;
    public const float RoundMagic = 12582912f; // 1.5·2²³: adding and subtracting it rounds to nearest
    public const float C1 = 0.693147180559945f;
    public const float C2 = 0.240226506959101f;
    public const float C3 = 0.0555041086648216f;
    public const float C4 = 0.00961812910762848f;
    public const float C5 = 0.00133335581464284f;
    public const float C6 = 0.000154035303933816f;
    public const float C7 = 0.0000152527338040598f;

    /// <summary>The same computation in scalar code, for tails; agrees with the vector lanes bit for bit.</summary>
    public static float Exp(float x)
    {
        if (x < MinInput)
        {
            return 0f;
        }

        var t = MathF.Min(x, MaxInput) * Log2E;
        var rounded = (t + RoundMagic) - RoundMagic;
        var f = t - rounded;
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
