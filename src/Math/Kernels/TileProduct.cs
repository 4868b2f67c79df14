using System.Runtime.CompilerServices;

namespace RingActors.Math.Kernels;

/// <summary>
/// The one matrix micro-kernel of the attention kernels: C = A · B on a tile, with every row of A broadcast against
/// vectors of B, 4 rows × 4 vectors of 16 accumulators at a time. Q·Kᵀ (A = Q, B = packed Kᵀ) and P·V (A = P, B = packed V)
/// are both this product with different strides.
/// </summary>
internal static class TileProduct<TOps, TVec>
    where TOps : struct, ISimd<TVec>
    where TVec : struct
{
    /// <summary>Rows handled per step: the rows passed to <see cref="Multiply"/> must be a multiple of it.</summary>
    public const int RowStep = 4;

    /// <summary>
    /// C[r, c] = Σ_k A[r, k] · B[k, c] for r &lt; rows (a multiple of 4), c &lt; columns (a multiple of the vector width),
    /// k &lt; depth; each matrix row-major with its own stride in floats. C is overwritten.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(ref float a, int aStride, ref float b, int bStride, ref float c, int cStride, int rows, int columns, int depth)
    {
        var w = TOps.Count;
        var wideColumns = columns / (4 * w) * (4 * w);

        // Columns outside, rows inside: one slab of B (depth × 4 vectors) stays in L1 while every row group passes over it.
        for (var col = 0; col < wideColumns; col += 4 * w)
        {
            for (var r = 0; r < rows; r += RowStep)
            {
                ref var a0 = ref Unsafe.Add(ref a, r * aStride);
                ref var a1 = ref Unsafe.Add(ref a0, aStride);
                ref var a2 = ref Unsafe.Add(ref a1, aStride);
                ref var a3 = ref Unsafe.Add(ref a2, aStride);
                TVec c00 = TOps.Zero, c01 = TOps.Zero, c02 = TOps.Zero, c03 = TOps.Zero;
                TVec c10 = TOps.Zero, c11 = TOps.Zero, c12 = TOps.Zero, c13 = TOps.Zero;
                TVec c20 = TOps.Zero, c21 = TOps.Zero, c22 = TOps.Zero, c23 = TOps.Zero;
                TVec c30 = TOps.Zero, c31 = TOps.Zero, c32 = TOps.Zero, c33 = TOps.Zero;
                var offset = (nuint)col;
                for (var k = 0; k < depth; k++, offset += (nuint)bStride)
                {
                    var b0 = TOps.Load(ref b, offset);
                    var b1 = TOps.Load(ref b, offset + (nuint)w);
                    var b2 = TOps.Load(ref b, offset + (nuint)(2 * w));
                    var b3 = TOps.Load(ref b, offset + (nuint)(3 * w));
                    var x0 = TOps.Broadcast(Unsafe.Add(ref a0, k));
                    c00 = TOps.MultiplyAdd(x0, b0, c00);
                    c01 = TOps.MultiplyAdd(x0, b1, c01);
                    c02 = TOps.MultiplyAdd(x0, b2, c02);
                    c03 = TOps.MultiplyAdd(x0, b3, c03);
                    var x1 = TOps.Broadcast(Unsafe.Add(ref a1, k));
                    c10 = TOps.MultiplyAdd(x1, b0, c10);
                    c11 = TOps.MultiplyAdd(x1, b1, c11);
                    c12 = TOps.MultiplyAdd(x1, b2, c12);
                    c13 = TOps.MultiplyAdd(x1, b3, c13);
                    var x2 = TOps.Broadcast(Unsafe.Add(ref a2, k));
                    c20 = TOps.MultiplyAdd(x2, b0, c20);
                    c21 = TOps.MultiplyAdd(x2, b1, c21);
                    c22 = TOps.MultiplyAdd(x2, b2, c22);
                    c23 = TOps.MultiplyAdd(x2, b3, c23);
                    var x3 = TOps.Broadcast(Unsafe.Add(ref a3, k));
                    c30 = TOps.MultiplyAdd(x3, b0, c30);
                    c31 = TOps.MultiplyAdd(x3, b1, c31);
                    c32 = TOps.MultiplyAdd(x3, b2, c32);
                    c33 = TOps.MultiplyAdd(x3, b3, c33);
                }

                var row = (nuint)((r * cStride) + col);
                Store4(c00, c01, c02, c03, ref c, row, w);
                Store4(c10, c11, c12, c13, ref c, row + (nuint)cStride, w);
                Store4(c20, c21, c22, c23, ref c, row + (nuint)(2 * cStride), w);
                Store4(c30, c31, c32, c33, ref c, row + (nuint)(3 * cStride), w);
            }
        }

        // The remaining columns, one vector at a time.
        for (var r = 0; r < rows; r += RowStep)
        {
            ref var a0 = ref Unsafe.Add(ref a, r * aStride);
            ref var a1 = ref Unsafe.Add(ref a0, aStride);
            ref var a2 = ref Unsafe.Add(ref a1, aStride);
            ref var a3 = ref Unsafe.Add(ref a2, aStride);
            for (var col = wideColumns; col < columns; col += w)
            {
                TVec c0 = TOps.Zero, c1 = TOps.Zero, c2 = TOps.Zero, c3 = TOps.Zero;
                var offset = (nuint)col;
                for (var k = 0; k < depth; k++, offset += (nuint)bStride)
                {
                    var bv = TOps.Load(ref b, offset);
                    c0 = TOps.MultiplyAdd(TOps.Broadcast(Unsafe.Add(ref a0, k)), bv, c0);
                    c1 = TOps.MultiplyAdd(TOps.Broadcast(Unsafe.Add(ref a1, k)), bv, c1);
                    c2 = TOps.MultiplyAdd(TOps.Broadcast(Unsafe.Add(ref a2, k)), bv, c2);
                    c3 = TOps.MultiplyAdd(TOps.Broadcast(Unsafe.Add(ref a3, k)), bv, c3);
                }

                var row = (nuint)((r * cStride) + col);
                TOps.Store(c0, ref c, row);
                TOps.Store(c1, ref c, row + (nuint)cStride);
                TOps.Store(c2, ref c, row + (nuint)(2 * cStride));
                TOps.Store(c3, ref c, row + (nuint)(3 * cStride));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(TVec v0, TVec v1, TVec v2, TVec v3, ref float destination, nuint offset, int w)
    {
        TOps.Store(v0, ref destination, offset);
        TOps.Store(v1, ref destination, offset + (nuint)w);
        TOps.Store(v2, ref destination, offset + (nuint)(2 * w));
        TOps.Store(v3, ref destination, offset + (nuint)(3 * w));
    }
}
