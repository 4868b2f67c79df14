using System.Runtime.Intrinsics;
using RingActors.Math.Kernels;

namespace RingActors.Math.Tests;

public class TileProductSpec
{
    private delegate void Product(float[] a, int aStride, float[] b, int bStride, float[] c, int cStride, int rows, int columns, int depth);

    /// <summary>Each micro-kernel shape this processor can run in hardware, plus Vector256 always (emulated where it is not, still exact).</summary>
    public static TheoryData<VectorIsa> Paths()
    {
        var data = new TheoryData<VectorIsa> { VectorIsa.Vector256 };
        if (KernelIsa.IsAccelerated(VectorIsa.Vector512))
        {
            data.Add(VectorIsa.Vector512);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Multiply_must_equal_a_float64_product_for_every_row_count_and_odd_widths_and_depths(VectorIsa isa)
    {
        var (product, width, step) = ProductFor(isa);
        var random = new Random(7);
        // Rows: every multiple of 4 up to 64 (remainders 0, 2 and 4 after the 6-row blocks); columns: one vector up to
        // two main blocks and an odd vector more; depths odd and the two head sizes.
        foreach (var depth in new[] { 1, 7, 33, 64, 128 })
        {
            for (var rows = 4; rows <= 64; rows += 4)
            {
                foreach (var columns in new[] { width, step, step + width, (2 * step) + width })
                {
                    var aStride = depth + 3;
                    var bStride = columns + width;
                    var cStride = columns + (2 * width);
                    var a = RandomArray(random, rows * aStride);
                    var b = RandomArray(random, depth * bStride);
                    var c = Enumerable.Repeat(float.NaN, rows * cStride).ToArray();
                    product(a, aStride, b, bStride, c, cStride, rows, columns, depth);
                    for (var r = 0; r < rows; r++)
                    {
                        for (var j = 0; j < cStride; j++)
                        {
                            var actual = c[(r * cStride) + j];
                            if (j >= columns)
                            {
                                Assert.True(float.IsNaN(actual), $"{isa}: wrote past column {columns} at ({r}, {j})");
                                continue;
                            }

                            double expected = 0, magnitude = 0;
                            for (var k = 0; k < depth; k++)
                            {
                                var term = (double)a[(r * aStride) + k] * b[(k * bStride) + j];
                                expected += term;
                                magnitude += System.Math.Abs(term);
                            }

                            // fp32 accumulation over depth terms: a few ulps of the sum of magnitudes.
                            Assert.True(
                                System.Math.Abs(actual - expected) <= 1e-6 * (magnitude + 1e-30) * System.Math.Sqrt(depth),
                                $"{isa}: rows {rows} columns {columns} depth {depth}: C[{r},{j}] = {actual}, expected {expected}");
                        }
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Accumulate_must_equal_the_float64_oracle_on_each_vector_path(VectorIsa isa)
    {
        // Odd lengths and head sizes: partial tiles, padded rows and columns, the row tail after 6-row blocks.
        foreach (var (seq, dim, causal, threads) in new[] { (31, 7, false, 1), (131, 33, true, 2), (197, 64, true, 1), (70, 128, false, 2), (259, 80, true, 1) })
        {
            var shape = new AttentionShape(1, 2, 1, seq, dim);
            var input = AttentionInput.Random(shape, seed: seq + dim);
            var options = new AttentionOptions(Causal: causal, Threads: threads);
            var positions = Enumerable.Range(0, seq).ToArray();
            var result = new PartialAttention(1, 2, seq, dim);
            BlockwiseAttention.Accumulate(new QueryChunk(input.Q, positions), new KeyValueBlock(input.K, input.V, positions), AttentionHeads.Of(shape), options, result, isa);
            var (expected, expectedLse) = ReferenceAttention.Compute(input, options);
            var error = ErrorMetrics.Compare(result.Output, expected);
            Assert.True(error.RelativeError < 1e-5, $"{isa}, N={seq} d={dim} causal={causal}: relative error {error.RelativeError}");
            for (var i = 0; i < expectedLse.Length; i++)
            {
                Assert.Equal(expectedLse[i], result.Lse[i], 1e-4);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void MultiplyAdd_must_add_the_product_to_what_C_holds(VectorIsa isa)
    {
        var (_, width, step) = ProductFor(isa);
        var random = new Random(9);
        const int rows = 28, depth = 19;
        var columns = (2 * step) + width;
        var a = RandomArray(random, rows * depth);
        var b = RandomArray(random, depth * columns);
        var c = RandomArray(random, rows * columns);
        var before = (float[])c.Clone();
        if (isa == VectorIsa.Vector512)
        {
            TileProduct<Simd512, Vector512<float>, Kernel4x4<Simd512, Vector512<float>>, Kernel4x4<Simd512, Vector512<float>>>.MultiplyAdd(
                ref a[0], depth, ref b[0], columns, ref c[0], columns, rows, columns, depth);
        }
        else
        {
            TileProduct<Simd256, Vector256<float>, Kernel6x2<Simd256, Vector256<float>>, Kernel4x2<Simd256, Vector256<float>>>.MultiplyAdd(
                ref a[0], depth, ref b[0], columns, ref c[0], columns, rows, columns, depth);
        }

        for (var r = 0; r < rows; r++)
        {
            for (var j = 0; j < columns; j++)
            {
                double expected = before[(r * columns) + j];
                for (var k = 0; k < depth; k++)
                {
                    expected += (double)a[(r * depth) + k] * b[(k * columns) + j];
                }

                Assert.True(System.Math.Abs(c[(r * columns) + j] - expected) <= 1e-5 * (1 + System.Math.Abs(expected)), $"{isa}: C[{r},{j}] = {c[(r * columns) + j]}, expected {expected}");
            }
        }
    }

    [Fact]
    public void Selected_path_must_be_the_widest_the_processor_accelerates()
    {
        var expected = Vector512.IsHardwareAccelerated ? VectorIsa.Vector512 : VectorIsa.Vector256;
        Assert.Equal(expected, KernelIsa.Selected);
        Assert.Equal(Vector512.IsHardwareAccelerated ? "avx512" : "avx2", KernelIsa.Id(KernelIsa.Selected));
    }

    private static (Product Product, int Width, int Step) ProductFor(VectorIsa isa) => isa == VectorIsa.Vector512
        ? ((a, sa, b, sb, c, sc, rows, columns, depth) =>
            TileProduct<Simd512, Vector512<float>, Kernel4x4<Simd512, Vector512<float>>, Kernel4x4<Simd512, Vector512<float>>>.Multiply(
                ref a[0], sa, ref b[0], sb, ref c[0], sc, rows, columns, depth), 16, 64)
        : ((a, sa, b, sb, c, sc, rows, columns, depth) =>
            TileProduct<Simd256, Vector256<float>, Kernel6x2<Simd256, Vector256<float>>, Kernel4x2<Simd256, Vector256<float>>>.Multiply(
                ref a[0], sa, ref b[0], sb, ref c[0], sc, rows, columns, depth), 8, 16);

    private static float[] RandomArray(Random random, int length) =>
        Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
}
