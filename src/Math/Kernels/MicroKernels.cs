using System.Runtime.CompilerServices;

namespace RingActors.Math.Kernels;

/// <summary>
/// One register block of C = A · B: <see cref="Rows"/> rows of A, each broadcast against <see cref="Vectors"/> vectors of B,
/// Rows × Vectors accumulators held in registers over the whole depth, then stored over C.
/// </summary>
internal interface IMicroKernel
{
    static abstract int Rows { get; }

    static abstract int Vectors { get; }

    /// <summary>
    /// C[r, j] = Σ_k A[r, k] · B[k, j] for r &lt; Rows, j &lt; Vectors · width (C += when <paramref name="accumulate"/>);
    /// A[r, k] at element r · <paramref name="aStride"/> + k · <paramref name="aDepthStride"/> of <paramref name="a"/> (row-major:
    /// depth stride 1; stored transposed: row stride 1), B from element <paramref name="bOffset"/> with row stride
    /// <paramref name="bStride"/>, C from <paramref name="cOffset"/>.
    /// </summary>
    static abstract void Run(ref float a, int aStride, int aDepthStride, ref float b, nuint bOffset, int bStride, ref float c, nuint cOffset, int cStride, int depth, bool accumulate);
}

/// <summary>How a micro-kernel writes its accumulators over C: overwrite (the forward's products) or add (the backward's).</summary>
internal static class MicroStore<TOps, TVec>
    where TOps : struct, ISimd<TVec>
    where TVec : struct
{
    // One branch per stored vector, after the whole depth loop: predictable and outside the hot loop.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Put(TVec value, ref float destination, nuint offset, bool accumulate) =>
        TOps.Store(accumulate ? TOps.Add(value, TOps.Load(ref destination, offset)) : value, ref destination, offset);
}

/// <summary>
/// 4 rows × 4 vectors, 16 accumulators: with AVX-512's 32 zmm registers the accumulators, the 4 loads of B and a
/// broadcast all fit. On AVX2's 16 ymm registers the same shape spills (ANCHORS.md §5b): there use <see cref="Kernel6x2{TOps, TVec}"/>.
/// </summary>
internal readonly struct Kernel4x4<TOps, TVec> : IMicroKernel
    where TOps : struct, ISimd<TVec>
    where TVec : struct
{
    public static int Rows => 4;

    public static int Vectors => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(ref float a, int aStride, int aDepthStride, ref float b, nuint bOffset, int bStride, ref float c, nuint cOffset, int cStride, int depth, bool accumulate)
    {
        var w = (nuint)TOps.Count;
        ref var a0 = ref a;
        ref var a1 = ref Unsafe.Add(ref a0, aStride);
        ref var a2 = ref Unsafe.Add(ref a1, aStride);
        ref var a3 = ref Unsafe.Add(ref a2, aStride);
        TVec c00 = TOps.Zero, c01 = TOps.Zero, c02 = TOps.Zero, c03 = TOps.Zero;
        TVec c10 = TOps.Zero, c11 = TOps.Zero, c12 = TOps.Zero, c13 = TOps.Zero;
        TVec c20 = TOps.Zero, c21 = TOps.Zero, c22 = TOps.Zero, c23 = TOps.Zero;
        TVec c30 = TOps.Zero, c31 = TOps.Zero, c32 = TOps.Zero, c33 = TOps.Zero;
        var offset = bOffset;
        nint ak = 0;
        for (var k = 0; k < depth; k++, offset += (nuint)bStride, ak += aDepthStride)
        {
            var b0 = TOps.Load(ref b, offset);
            var b1 = TOps.Load(ref b, offset + w);
            var b2 = TOps.Load(ref b, offset + (2 * w));
            var b3 = TOps.Load(ref b, offset + (3 * w));
            var x0 = TOps.Broadcast(Unsafe.Add(ref a0, ak));
            c00 = TOps.MultiplyAdd(x0, b0, c00);
            c01 = TOps.MultiplyAdd(x0, b1, c01);
            c02 = TOps.MultiplyAdd(x0, b2, c02);
            c03 = TOps.MultiplyAdd(x0, b3, c03);
            var x1 = TOps.Broadcast(Unsafe.Add(ref a1, ak));
            c10 = TOps.MultiplyAdd(x1, b0, c10);
            c11 = TOps.MultiplyAdd(x1, b1, c11);
            c12 = TOps.MultiplyAdd(x1, b2, c12);
            c13 = TOps.MultiplyAdd(x1, b3, c13);
            var x2 = TOps.Broadcast(Unsafe.Add(ref a2, ak));
            c20 = TOps.MultiplyAdd(x2, b0, c20);
            c21 = TOps.MultiplyAdd(x2, b1, c21);
            c22 = TOps.MultiplyAdd(x2, b2, c22);
            c23 = TOps.MultiplyAdd(x2, b3, c23);
            var x3 = TOps.Broadcast(Unsafe.Add(ref a3, ak));
            c30 = TOps.MultiplyAdd(x3, b0, c30);
            c31 = TOps.MultiplyAdd(x3, b1, c31);
            c32 = TOps.MultiplyAdd(x3, b2, c32);
            c33 = TOps.MultiplyAdd(x3, b3, c33);
        }

        var s = (nuint)cStride;
        Store4(c00, c01, c02, c03, ref c, cOffset, w, accumulate);
        Store4(c10, c11, c12, c13, ref c, cOffset + s, w, accumulate);
        Store4(c20, c21, c22, c23, ref c, cOffset + (2 * s), w, accumulate);
        Store4(c30, c31, c32, c33, ref c, cOffset + (3 * s), w, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(TVec v0, TVec v1, TVec v2, TVec v3, ref float destination, nuint offset, nuint w, bool accumulate)
    {
        MicroStore<TOps, TVec>.Put(v0, ref destination, offset, accumulate);
        MicroStore<TOps, TVec>.Put(v1, ref destination, offset + w, accumulate);
        MicroStore<TOps, TVec>.Put(v2, ref destination, offset + (2 * w), accumulate);
        MicroStore<TOps, TVec>.Put(v3, ref destination, offset + (3 * w), accumulate);
    }
}

/// <summary>
/// 6 rows × 2 vectors, 12 accumulators + 2 loads of B + 1 broadcast = 15 of AVX2's 16 ymm registers: the shape BLIS and
/// OpenBLAS use on Haswell-class cores (6 × 16 floats). 12 independent FMA chains cover FMA latency × 2 ports.
/// </summary>
internal readonly struct Kernel6x2<TOps, TVec> : IMicroKernel
    where TOps : struct, ISimd<TVec>
    where TVec : struct
{
    public static int Rows => 6;

    public static int Vectors => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(ref float a, int aStride, int aDepthStride, ref float b, nuint bOffset, int bStride, ref float c, nuint cOffset, int cStride, int depth, bool accumulate)
    {
        var w = (nuint)TOps.Count;
        ref var a0 = ref a;
        ref var a1 = ref Unsafe.Add(ref a0, aStride);
        ref var a2 = ref Unsafe.Add(ref a1, aStride);
        ref var a3 = ref Unsafe.Add(ref a2, aStride);
        ref var a4 = ref Unsafe.Add(ref a3, aStride);
        ref var a5 = ref Unsafe.Add(ref a4, aStride);
        TVec c00 = TOps.Zero, c01 = TOps.Zero, c10 = TOps.Zero, c11 = TOps.Zero, c20 = TOps.Zero, c21 = TOps.Zero;
        TVec c30 = TOps.Zero, c31 = TOps.Zero, c40 = TOps.Zero, c41 = TOps.Zero, c50 = TOps.Zero, c51 = TOps.Zero;
        var offset = bOffset;
        nint ak = 0;
        for (var k = 0; k < depth; k++, offset += (nuint)bStride, ak += aDepthStride)
        {
            var b0 = TOps.Load(ref b, offset);
            var b1 = TOps.Load(ref b, offset + w);
            var x = TOps.Broadcast(Unsafe.Add(ref a0, ak));
            c00 = TOps.MultiplyAdd(x, b0, c00);
            c01 = TOps.MultiplyAdd(x, b1, c01);
            x = TOps.Broadcast(Unsafe.Add(ref a1, ak));
            c10 = TOps.MultiplyAdd(x, b0, c10);
            c11 = TOps.MultiplyAdd(x, b1, c11);
            x = TOps.Broadcast(Unsafe.Add(ref a2, ak));
            c20 = TOps.MultiplyAdd(x, b0, c20);
            c21 = TOps.MultiplyAdd(x, b1, c21);
            x = TOps.Broadcast(Unsafe.Add(ref a3, ak));
            c30 = TOps.MultiplyAdd(x, b0, c30);
            c31 = TOps.MultiplyAdd(x, b1, c31);
            x = TOps.Broadcast(Unsafe.Add(ref a4, ak));
            c40 = TOps.MultiplyAdd(x, b0, c40);
            c41 = TOps.MultiplyAdd(x, b1, c41);
            x = TOps.Broadcast(Unsafe.Add(ref a5, ak));
            c50 = TOps.MultiplyAdd(x, b0, c50);
            c51 = TOps.MultiplyAdd(x, b1, c51);
        }

        var s = (nuint)cStride;
        Store2(c00, c01, ref c, cOffset, w, accumulate);
        Store2(c10, c11, ref c, cOffset + s, w, accumulate);
        Store2(c20, c21, ref c, cOffset + (2 * s), w, accumulate);
        Store2(c30, c31, ref c, cOffset + (3 * s), w, accumulate);
        Store2(c40, c41, ref c, cOffset + (4 * s), w, accumulate);
        Store2(c50, c51, ref c, cOffset + (5 * s), w, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store2(TVec v0, TVec v1, ref float destination, nuint offset, nuint w, bool accumulate)
    {
        MicroStore<TOps, TVec>.Put(v0, ref destination, offset, accumulate);
        MicroStore<TOps, TVec>.Put(v1, ref destination, offset + w, accumulate);
    }
}

/// <summary>4 rows × 2 vectors: the rows a 6-row kernel leaves over when a tile's height is not a multiple of 6 (64 = 10·6 + 4).</summary>
internal readonly struct Kernel4x2<TOps, TVec> : IMicroKernel
    where TOps : struct, ISimd<TVec>
    where TVec : struct
{
    public static int Rows => 4;

    public static int Vectors => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(ref float a, int aStride, int aDepthStride, ref float b, nuint bOffset, int bStride, ref float c, nuint cOffset, int cStride, int depth, bool accumulate)
    {
        var w = (nuint)TOps.Count;
        ref var a0 = ref a;
        ref var a1 = ref Unsafe.Add(ref a0, aStride);
        ref var a2 = ref Unsafe.Add(ref a1, aStride);
        ref var a3 = ref Unsafe.Add(ref a2, aStride);
        TVec c00 = TOps.Zero, c01 = TOps.Zero, c10 = TOps.Zero, c11 = TOps.Zero;
        TVec c20 = TOps.Zero, c21 = TOps.Zero, c30 = TOps.Zero, c31 = TOps.Zero;
        var offset = bOffset;
        nint ak = 0;
        for (var k = 0; k < depth; k++, offset += (nuint)bStride, ak += aDepthStride)
        {
            var b0 = TOps.Load(ref b, offset);
            var b1 = TOps.Load(ref b, offset + w);
            var x = TOps.Broadcast(Unsafe.Add(ref a0, ak));
            c00 = TOps.MultiplyAdd(x, b0, c00);
            c01 = TOps.MultiplyAdd(x, b1, c01);
            x = TOps.Broadcast(Unsafe.Add(ref a1, ak));
            c10 = TOps.MultiplyAdd(x, b0, c10);
            c11 = TOps.MultiplyAdd(x, b1, c11);
            x = TOps.Broadcast(Unsafe.Add(ref a2, ak));
            c20 = TOps.MultiplyAdd(x, b0, c20);
            c21 = TOps.MultiplyAdd(x, b1, c21);
            x = TOps.Broadcast(Unsafe.Add(ref a3, ak));
            c30 = TOps.MultiplyAdd(x, b0, c30);
            c31 = TOps.MultiplyAdd(x, b1, c31);
        }

        var s = (nuint)cStride;
        Kernel6x2<TOps, TVec>.Store2(c00, c01, ref c, cOffset, w, accumulate);
        Kernel6x2<TOps, TVec>.Store2(c10, c11, ref c, cOffset + s, w, accumulate);
        Kernel6x2<TOps, TVec>.Store2(c20, c21, ref c, cOffset + (2 * s), w, accumulate);
        Kernel6x2<TOps, TVec>.Store2(c30, c31, ref c, cOffset + (3 * s), w, accumulate);
    }
}

/// <summary>4 rows × 1 vector: the columns left when a width is not a multiple of the main kernel's vectors.</summary>
internal readonly struct Kernel4x1<TOps, TVec> : IMicroKernel
    where TOps : struct, ISimd<TVec>
    where TVec : struct
{
    public static int Rows => 4;

    public static int Vectors => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(ref float a, int aStride, int aDepthStride, ref float b, nuint bOffset, int bStride, ref float c, nuint cOffset, int cStride, int depth, bool accumulate)
    {
        ref var a0 = ref a;
        ref var a1 = ref Unsafe.Add(ref a0, aStride);
        ref var a2 = ref Unsafe.Add(ref a1, aStride);
        ref var a3 = ref Unsafe.Add(ref a2, aStride);
        TVec c0 = TOps.Zero, c1 = TOps.Zero, c2 = TOps.Zero, c3 = TOps.Zero;
        var offset = bOffset;
        nint ak = 0;
        for (var k = 0; k < depth; k++, offset += (nuint)bStride, ak += aDepthStride)
        {
            var bv = TOps.Load(ref b, offset);
            c0 = TOps.MultiplyAdd(TOps.Broadcast(Unsafe.Add(ref a0, ak)), bv, c0);
            c1 = TOps.MultiplyAdd(TOps.Broadcast(Unsafe.Add(ref a1, ak)), bv, c1);
            c2 = TOps.MultiplyAdd(TOps.Broadcast(Unsafe.Add(ref a2, ak)), bv, c2);
            c3 = TOps.MultiplyAdd(TOps.Broadcast(Unsafe.Add(ref a3, ak)), bv, c3);
        }

        var s = (nuint)cStride;
        MicroStore<TOps, TVec>.Put(c0, ref c, cOffset, accumulate);
        MicroStore<TOps, TVec>.Put(c1, ref c, cOffset + s, accumulate);
        MicroStore<TOps, TVec>.Put(c2, ref c, cOffset + (2 * s), accumulate);
        MicroStore<TOps, TVec>.Put(c3, ref c, cOffset + (3 * s), accumulate);
    }
}
