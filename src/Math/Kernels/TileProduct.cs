using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace RingActors.Math.Kernels;

/// <summary>
/// The one matrix product of the attention kernels: C = A · B on a tile, cut into register blocks of the micro-kernel
/// <typeparamref name="TMain"/> (rows × vectors), the rows it leaves over done by <typeparamref name="TRowTail"/> (4 rows,
/// the same vectors) and the columns it leaves over by 4 rows × 1 vector. Q·Kᵀ (A = Q, B = packed Kᵀ) and P·V (A = P,
/// B = packed V) are both this product with different strides; which micro-kernel shape runs is an instruction-set choice
/// (<see cref="KernelIsa"/>), the tiling around it is the same. The backward's five products are the same routine,
/// accumulating (<see cref="MultiplyAdd"/>) where they sum over tiles.
/// </summary>
internal static class TileProduct<TOps, TVec, TMain, TRowTail>
    where TOps : struct, ISimd<TVec>
    where TVec : struct
    where TMain : struct, IMicroKernel
    where TRowTail : struct, IMicroKernel
{
    /// <summary>Rows passed to <see cref="Multiply"/> must be a multiple of it: every kernel here is 4 or 6 rows high.</summary>
    public const int RowStep = 4;

    /// <summary>
    /// C[r, c] = Σ_k A[r, k] · B[k, c] for r &lt; rows (a multiple of 4), c &lt; columns (a multiple of the vector width),
    /// k &lt; depth; each matrix row-major with its own stride in floats. C is overwritten.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(ref float a, int aStride, ref float b, int bStride, ref float c, int cStride, int rows, int columns, int depth) =>
        Product(ref a, aStride, 1, ref b, bStride, ref c, cStride, rows, columns, depth, accumulate: false);

    /// <summary>C += A · B, otherwise as <see cref="Multiply"/>: the backward's dQ, dK and dV sum over tiles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAdd(ref float a, int aStride, ref float b, int bStride, ref float c, int cStride, int rows, int columns, int depth) =>
        Product(ref a, aStride, 1, ref b, bStride, ref c, cStride, rows, columns, depth, accumulate: true);

    /// <summary>
    /// C += Aᵀ · B with A stored [depth][<paramref name="aStride"/>] (C[r, c] = Σ_k A[k, r] · B[k, c]), otherwise as
    /// <see cref="MultiplyAdd"/>: the backward's dVᵀ += dOᵀ·P and dKᵀ += Qᵀ·dS read dO and Q as the rows they are, with no
    /// transposed copy; a register block's broadcasts for one k then come from one cache line.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAddTransposed(ref float a, int aStride, ref float b, int bStride, ref float c, int cStride, int rows, int columns, int depth) =>
        Product(ref a, 1, aStride, ref b, bStride, ref c, cStride, rows, columns, depth, accumulate: true);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Product(ref float a, int aStride, int aDepthStride, ref float b, int bStride, ref float c, int cStride, int rows, int columns, int depth, bool accumulate)
    {
        Debug.Assert(rows % RowStep == 0 && TRowTail.Rows == RowStep && TRowTail.Vectors == TMain.Vectors, "rows padded to 4, tail kernel 4 rows of the same width");
        var w = TOps.Count;
        var step = TMain.Vectors * w;
        var wideColumns = columns / step * step;

        // As many main blocks as leave a multiple of 4 rows for the tail kernel (64 rows = 10 × 6 + 4).
        var mainBlocks = rows / TMain.Rows;
        while ((rows - (mainBlocks * TMain.Rows)) % RowStep != 0)
        {
            mainBlocks--;
        }

        var mainRows = mainBlocks * TMain.Rows;

        // Columns outside, rows inside: one slab of B (depth × the kernel's vectors) stays in L1 while every row group passes over it.
        for (var col = 0; col < wideColumns; col += step)
        {
            var r = 0;
            for (; r < mainRows; r += TMain.Rows)
            {
                TMain.Run(ref Unsafe.Add(ref a, r * aStride), aStride, aDepthStride, ref b, (nuint)col, bStride, ref c, (nuint)((r * cStride) + col), cStride, depth, accumulate);
            }

            for (; r < rows; r += RowStep)
            {
                TRowTail.Run(ref Unsafe.Add(ref a, r * aStride), aStride, aDepthStride, ref b, (nuint)col, bStride, ref c, (nuint)((r * cStride) + col), cStride, depth, accumulate);
            }
        }

        // The remaining columns, one vector at a time.
        for (var r = 0; r < rows; r += RowStep)
        {
            for (var col = wideColumns; col < columns; col += w)
            {
                Kernel4x1<TOps, TVec>.Run(ref Unsafe.Add(ref a, r * aStride), aStride, aDepthStride, ref b, (nuint)col, bStride, ref c, (nuint)((r * cStride) + col), cStride, depth, accumulate);
            }
        }
    }
}
