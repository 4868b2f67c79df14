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
