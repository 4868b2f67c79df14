using System.Runtime.Intrinsics;
using RingActors.Math.Kernels;

namespace RingActors.Math.Tests;

public class VectorMathSpec
{
    public static TheoryData<int> TailLengths()
    {
        var data = new TheoryData<int>();
        for (var length = 0; length <= 256; length++)
        {
            data.Add(length);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(TailLengths))]
    public void ExpSubtractSum_must_match_the_scalar_reference_for_every_tail_length(int length)
    {
        var source = RandomRow(length, seed: length, scale: 30);
        var shift = length == 0 ? 0f : source.Max();
        foreach (var kernel in Kernels())
        {
            var destination = new float[length];
            var sum = kernel.ExpSubtractSum(source, shift, destination);
            double expectedSum = 0;
            for (var i = 0; i < length; i++)
            {
                var expected = System.Math.Exp(source[i] - (double)shift);
                expectedSum += expected;
                Assert.True(System.Math.Abs(destination[i] - expected) <= 2e-7 * System.Math.Max(1, expected), $"{kernel.Name}: exp at {i} of {length}: {destination[i]} vs {expected}");
            }

            Assert.True(System.Math.Abs(sum - expectedSum) <= 1e-6 * System.Math.Max(1, expectedSum), $"{kernel.Name}: sum {sum} vs {expectedSum}");
        }
    }

    [Theory]
    [MemberData(nameof(TailLengths))]
    public void Max_must_match_the_scalar_reference_for_every_tail_length(int length)
    {
        var source = RandomRow(length, seed: 1000 + length, scale: 5);
        var expected = length == 0 ? float.NegativeInfinity : source.Max();
        foreach (var kernel in Kernels())
        {
            Assert.Equal(expected, kernel.Max(source));
        }
    }

    [Theory]
    [MemberData(nameof(TailLengths))]
    public void ScaleAndAdd_must_match_the_scalar_reference_for_every_tail_length(int length)
    {
        var accumulator = RandomRow(length, seed: 2000 + length, scale: 3);
        var other = RandomRow(length, seed: 3000 + length, scale: 3);
        foreach (var kernel in Kernels())
        {
            var result = accumulator.ToArray();
            kernel.ScaleAndAdd(result, 0.75f, other, -1.25f);
            for (var i = 0; i < length; i++)
            {
                var expected = (0.75 * accumulator[i]) + (-1.25 * other[i]);
                Assert.True(System.Math.Abs(result[i] - expected) <= 1e-6 * System.Math.Max(1, System.Math.Abs(expected)), $"{kernel.Name} at {i}");
            }
        }
    }

    [Fact]
    public void Exp_must_be_exactly_zero_far_below_and_finite_far_above()
    {
        var source = new[] { float.NegativeInfinity, -1000f, -88f, -87f, 0f, 88f };
        var destination = new float[source.Length];
        VectorMath.ExpSubtractSum(source, 0f, destination);
        Assert.Equal(0f, destination[0]);
        Assert.Equal(0f, destination[1]);
        Assert.Equal(0f, destination[2]);
        Assert.True(destination[3] > 0);
        Assert.Equal(1f, destination[4], 6);
        Assert.True(float.IsFinite(destination[5]));
    }

    [Fact]
    public void Every_vector_path_must_agree_with_the_scalar_exp_bit_for_bit()
    {
        // A dense sweep over the whole range plus the edges: −∞, the exact-zero threshold at t = −126, the saturation at
        // 127.49, the half-integers where round(t) switches, and the integers where the fraction t − round(t) changes sign.
        var inputs = new List<float> { float.NegativeInfinity, -1000f, 88.5f, 1000f, 0f, -0f };
        for (var x = -90f; x <= 90f; x += 0.0137f)
        {
            inputs.Add(x);
        }

        foreach (var t in new[] { -126f, -125f, -2f, -1f, 1f, 127f, 127.49f, -0.5f, 0.5f })
        {
            var x = t / ExpConstants.Log2E;
            inputs.AddRange([float.BitDecrement(x), x, float.BitIncrement(x)]);
        }

        var source = inputs.ToArray();
        var expected = source.Select(ExpConstants.Exp).ToArray();
        foreach (var kernel in Kernels())
        {
            var destination = new float[source.Length];
            kernel.ExpSubtractSum(source, 0f, destination);
            for (var i = 0; i < source.Length; i++)
            {
                Assert.True(
                    BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(destination[i]),
                    $"{kernel.Name}: exp({source[i]:R}) = {destination[i]:R}, the scalar route gives {expected[i]:R}");
            }
        }
    }

    [Fact]
    public void Four_row_max_and_exp_must_agree_with_the_one_row_routines_bit_for_bit()
    {
        // The attention tile's softmax runs four rows at a time; a row refused outright (all −∞) is shifted by +∞ and
        // must come out zeros with sum 0. Odd stride, lengths from one vector to a tile and a half.
        foreach (var length in new[] { 16, 48, 128, 192 })
        {
            if (Vector256.IsHardwareAccelerated)
            {
                AssertFourRowsAgree<Simd256, Vector256<float>>(length);
            }

            if (Vector512.IsHardwareAccelerated)
            {
                AssertFourRowsAgree<Simd512, Vector512<float>>(length);
            }
        }
    }

    [Fact]
    public void Helpers_must_refuse_destinations_of_another_length()
    {
        var error = Assert.Throws<ArgumentException>(() => VectorMath.ExpSubtractSum(new float[4], 0, new float[3]));
        Assert.Equal("destination", error.ParamName);
        Assert.Contains("3", error.Message);
        Assert.Contains("4", error.Message);
    }

    private static void AssertFourRowsAgree<TOps, TVec>(int length)
        where TOps : struct, ISimd<TVec>
        where TVec : struct
    {
        var stride = length + 35;
        var rows = new float[4 * stride];
        for (var j = 0; j < 4; j++)
        {
            var row = j == 2 ? Enumerable.Repeat(float.NegativeInfinity, length).ToArray() : RandomRow(length, seed: (10 * length) + j, scale: 20);
            if (j == 3)
            {
                row[length / 3] = float.NegativeInfinity; // a masked key among attended ones
            }

            row.CopyTo(rows, j * stride);
        }

        var expectedMax = new float[4];
        var expectedSum = new float[4];
        var expected = (float[])rows.Clone();
        for (var j = 0; j < 4; j++)
        {
            var row = expected.AsSpan(j * stride, length);
            expectedMax[j] = VectorMath.Max<TOps, TVec>(row);
            var shift = float.IsNegativeInfinity(expectedMax[j]) ? float.PositiveInfinity : expectedMax[j];
            expectedSum[j] = VectorMath.ExpSubtractSum<TOps, TVec>(row, shift, row);
        }

        VectorMath.Max4<TOps, TVec>(ref rows[0], (nuint)stride, length, out var max0, out var max1, out var max2, out var max3);
        Assert.Equal(expectedMax, new[] { max0, max1, max2, max3 });
        VectorMath.ExpSubtractSum4<TOps, TVec>(ref rows[0], (nuint)stride, length, max0, max1, float.PositiveInfinity, max3, out var sum0, out var sum1, out var sum2, out var sum3);
        var name = $"{typeof(TVec).Name}, length {length}";
        Assert.True(expectedSum.SequenceEqual(new[] { sum0, sum1, sum2, sum3 }), $"{name}: sums {sum0} {sum1} {sum2} {sum3}, one row at a time {string.Join(' ', expectedSum)}");
        Assert.True(expected.SequenceEqual(rows), $"{name}: the four-row weights differ from the one-row weights");
        Assert.Equal(0f, sum2);
        Assert.All(rows.AsSpan(2 * stride, length).ToArray(), weight => Assert.Equal(0f, weight));
    }

    private static float[] RandomRow(int length, int seed, float scale)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() * 2) - 1) * scale).ToArray();
    }

    /// <summary>Every vector width this processor accelerates, plus the scalar path, each tested on its own.</summary>
    private static IEnumerable<KernelUnderTest> Kernels()
    {
        yield return new KernelUnderTest(
            "scalar",
            (s, shift, d) => VectorMath.ExpSubtractSumScalar(s, shift, d, 0),
            s => VectorMath.MaxScalar(s, 0, float.NegativeInfinity),
            (a, x, o, y) => VectorMath.ScaleAndAddScalar(a, x, o, y, 0));
        if (Vector256.IsHardwareAccelerated)
        {
            yield return new KernelUnderTest(
                "Vector256",
                (s, shift, d) => VectorMath.ExpSubtractSum<Simd256, Vector256<float>>(s, shift, d),
                VectorMath.Max<Simd256, Vector256<float>>,
                VectorMath.ScaleAndAdd<Simd256, Vector256<float>>);
        }

        if (Vector512.IsHardwareAccelerated)
        {
            yield return new KernelUnderTest(
                "Vector512",
                (s, shift, d) => VectorMath.ExpSubtractSum<Simd512, Vector512<float>>(s, shift, d),
                VectorMath.Max<Simd512, Vector512<float>>,
                VectorMath.ScaleAndAdd<Simd512, Vector512<float>>);
        }
    }

    private delegate float ExpFunction(ReadOnlySpan<float> source, float shift, Span<float> destination);

    private delegate float MaxFunction(ReadOnlySpan<float> source);

    private delegate void ScaleAndAddFunction(Span<float> accumulator, float selfFactor, ReadOnlySpan<float> other, float otherFactor);

    private sealed record KernelUnderTest(string Name, ExpFunction ExpSubtractSum, MaxFunction Max, ScaleAndAddFunction ScaleAndAdd);
}
