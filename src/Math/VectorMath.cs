using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using RingActors.Math.Kernels;

namespace RingActors.Math;

/// <summary>
/// Row-wise vector helpers used by the attention kernels: the widest vector path the processor accelerates,
/// then a scalar tail, so any length works. Spans in, destination span out, lengths validated first.
/// </summary>
public static class VectorMath
{
    /// <summary>Writes exp(source[i] − shift) to destination and returns their sum. A shift of −∞ is refused (use it only on rows with a finite max).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ExpSubtractSum(ReadOnlySpan<float> source, float shift, Span<float> destination)
    {
        CheckSameLength(source, destination, nameof(destination));
        if (Vector512.IsHardwareAccelerated)
        {
            return ExpSubtractSum<Simd512, Vector512<float>>(source, shift, destination);
        }

        return Vector256.IsHardwareAccelerated
            ? ExpSubtractSum<Simd256, Vector256<float>>(source, shift, destination)
            : ExpSubtractSumScalar(source, shift, destination, 0);
    }

    /// <summary>The largest element; −∞ for an empty span.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Max(ReadOnlySpan<float> source)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            return Max<Simd512, Vector512<float>>(source);
        }

        return Vector256.IsHardwareAccelerated ? Max<Simd256, Vector256<float>>(source) : MaxScalar(source, 0, float.NegativeInfinity);
    }

    /// <summary>destination = factor · source.</summary>
    public static void Scale(ReadOnlySpan<float> source, float factor, Span<float> destination)
    {
        CheckSameLength(source, destination, nameof(destination));
        System.Numerics.Tensors.TensorPrimitives.Multiply(source, factor, destination);
    }

    /// <summary>accumulator = selfFactor · accumulator + otherFactor · other.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScaleAndAdd(Span<float> accumulator, float selfFactor, ReadOnlySpan<float> other, float otherFactor)
    {
        CheckSameLength(other, accumulator, nameof(accumulator));
        if (Vector512.IsHardwareAccelerated)
        {
            ScaleAndAdd<Simd512, Vector512<float>>(accumulator, selfFactor, other, otherFactor);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            ScaleAndAdd<Simd256, Vector256<float>>(accumulator, selfFactor, other, otherFactor);
        }
        else
        {
            ScaleAndAddScalar(accumulator, selfFactor, other, otherFactor, 0);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float ExpSubtractSum<TOps, TVec>(ReadOnlySpan<float> source, float shift, Span<float> destination)
        where TOps : struct, ISimd<TVec>
        where TVec : struct
    {
        ref var src = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(source);
        ref var dst = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(destination);
        var shiftVector = TOps.Broadcast(shift);
        var sumVector = TOps.Zero;
        var i = 0;
        for (; i <= source.Length - TOps.Count; i += TOps.Count)
        {
            var e = TOps.Exp(TOps.Subtract(TOps.Load(ref src, (nuint)i), shiftVector));
            TOps.Store(e, ref dst, (nuint)i);
            sumVector = TOps.Add(sumVector, e);
        }

        return TOps.SumAcross(sumVector) + ExpSubtractSumScalar(source, shift, destination, i);
    }

    /// <summary>
    /// The largest element of each of four rows of <paramref name="length"/> floats (a multiple of the vector width) at
    /// <paramref name="first"/> + j · <paramref name="stride"/>: four independent max chains, where one row at a time waited
    /// on one chain and then on its horizontal reduction.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Max4<TOps, TVec>(ref float first, nuint stride, int length, out float max0, out float max1, out float max2, out float max3)
        where TOps : struct, ISimd<TVec>
        where TVec : struct
    {
        var w = (nuint)TOps.Count;
        var b0 = TOps.Load(ref first, 0);
        var b1 = TOps.Load(ref first, stride);
        var b2 = TOps.Load(ref first, 2 * stride);
        var b3 = TOps.Load(ref first, 3 * stride);
        for (var i = w; i < (nuint)length; i += w)
        {
            b0 = TOps.Max(b0, TOps.Load(ref first, i));
            b1 = TOps.Max(b1, TOps.Load(ref first, stride + i));
            b2 = TOps.Max(b2, TOps.Load(ref first, (2 * stride) + i));
            b3 = TOps.Max(b3, TOps.Load(ref first, (3 * stride) + i));
        }

        max0 = TOps.MaxAcross(b0);
        max1 = TOps.MaxAcross(b1);
        max2 = TOps.MaxAcross(b2);
        max3 = TOps.MaxAcross(b3);
    }

    /// <summary>
    /// <see cref="ExpSubtractSum{TOps, TVec}"/> on four rows in place, as <see cref="Max4{TOps, TVec}"/> lays them out, each
    /// with its own shift; every lane computes and sums exactly as the one-row routine does, so the results agree bit for bit.
    /// A shift of +∞ turns its row into zeros with sum 0 (exp of −∞ is 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ExpSubtractSum4<TOps, TVec>(ref float first, nuint stride, int length, float shift0, float shift1, float shift2, float shift3, out float sum0, out float sum1, out float sum2, out float sum3)
        where TOps : struct, ISimd<TVec>
        where TVec : struct
    {
        var w = (nuint)TOps.Count;
        TVec h0 = TOps.Broadcast(shift0), h1 = TOps.Broadcast(shift1), h2 = TOps.Broadcast(shift2), h3 = TOps.Broadcast(shift3);
        TVec s0 = TOps.Zero, s1 = TOps.Zero, s2 = TOps.Zero, s3 = TOps.Zero;
        ref var row1 = ref Unsafe.Add(ref first, stride);
        ref var row2 = ref Unsafe.Add(ref row1, stride);
        ref var row3 = ref Unsafe.Add(ref row2, stride);
        for (nuint i = 0; i < (nuint)length; i += w)
        {
            var e0 = TOps.Exp(TOps.Subtract(TOps.Load(ref first, i), h0));
            var e1 = TOps.Exp(TOps.Subtract(TOps.Load(ref row1, i), h1));
            var e2 = TOps.Exp(TOps.Subtract(TOps.Load(ref row2, i), h2));
            var e3 = TOps.Exp(TOps.Subtract(TOps.Load(ref row3, i), h3));
            TOps.Store(e0, ref first, i);
            TOps.Store(e1, ref row1, i);
            TOps.Store(e2, ref row2, i);
            TOps.Store(e3, ref row3, i);
            s0 = TOps.Add(s0, e0);
            s1 = TOps.Add(s1, e1);
            s2 = TOps.Add(s2, e2);
            s3 = TOps.Add(s3, e3);
        }

        sum0 = TOps.SumAcross(s0);
        sum1 = TOps.SumAcross(s1);
        sum2 = TOps.SumAcross(s2);
        sum3 = TOps.SumAcross(s3);
    }

    internal static float ExpSubtractSumScalar(ReadOnlySpan<float> source, float shift, Span<float> destination, int start)
    {
        var sum = 0f;
        for (var i = start; i < source.Length; i++)
        {
            var e = ExpConstants.Exp(source[i] - shift);
            destination[i] = e;
            sum += e;
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Max<TOps, TVec>(ReadOnlySpan<float> source)
        where TOps : struct, ISimd<TVec>
        where TVec : struct
    {
        if (source.Length < TOps.Count)
        {
            return MaxScalar(source, 0, float.NegativeInfinity);
        }

        ref var src = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(source);
        var best = TOps.Load(ref src, 0);
        var i = TOps.Count;
        for (; i <= source.Length - TOps.Count; i += TOps.Count)
        {
            best = TOps.Max(best, TOps.Load(ref src, (nuint)i));
        }

        return MaxScalar(source, i, TOps.MaxAcross(best));
    }

    internal static float MaxScalar(ReadOnlySpan<float> source, int start, float seed)
    {
        var best = seed;
        for (var i = start; i < source.Length; i++)
        {
            best = MathF.Max(best, source[i]);
        }

        return best;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ScaleAndAdd<TOps, TVec>(Span<float> accumulator, float selfFactor, ReadOnlySpan<float> other, float otherFactor)
        where TOps : struct, ISimd<TVec>
        where TVec : struct
    {
        ref var acc = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(accumulator);
        ref var src = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(other);
        var a = TOps.Broadcast(selfFactor);
        var b = TOps.Broadcast(otherFactor);
        var i = 0;
        for (; i <= accumulator.Length - TOps.Count; i += TOps.Count)
        {
            var value = TOps.MultiplyAdd(TOps.Load(ref src, (nuint)i), b, TOps.Multiply(TOps.Load(ref acc, (nuint)i), a));
            TOps.Store(value, ref acc, (nuint)i);
        }

        ScaleAndAddScalar(accumulator, selfFactor, other, otherFactor, i);
    }

    internal static void ScaleAndAddScalar(Span<float> accumulator, float selfFactor, ReadOnlySpan<float> other, float otherFactor, int start)
    {
        for (var i = start; i < accumulator.Length; i++)
        {
            accumulator[i] = MathF.FusedMultiplyAdd(other[i], otherFactor, accumulator[i] * selfFactor);
        }
    }

    private static void CheckSameLength(ReadOnlySpan<float> source, ReadOnlySpan<float> destination, string parameter)
    {
        if (source.Length != destination.Length)
        {
            throw new ArgumentException($"{parameter} holds {destination.Length} elements, the source {source.Length}", parameter);
        }
    }
}
