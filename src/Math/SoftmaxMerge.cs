namespace RingActors.Math;

/// <summary>
/// The one merge of partial attention results in RingActors (online softmax; ANCHORS.md §2, Milakov &amp; Gimelshein 2018).
/// A partial is a row's output o, already divided by its own softmax sum, and its log-sum-exp l. Two partials merge as
/// m = max(l₁, l₂); l = m + log(exp(l₁ − m) + exp(l₂ − m)); o = exp(l₁ − l)·o₁ + exp(l₂ − l)·o₂.
/// It is associative and commutative; (0, −∞) is its identity, and two identities merge to the identity, never NaN.
/// </summary>
public static class SoftmaxMerge
{
    /// <summary>Merges the partial (<paramref name="other"/>, <paramref name="otherLse"/>) into (<paramref name="accumulator"/>, <paramref name="accumulatorLse"/>).</summary>
    /// <param name="otherScale">Multiplies <paramref name="other"/> before merging, so a caller holding an unnormalised row sum can pass 1/sum instead of dividing first.</param>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void MergeRow(Span<float> accumulator, ref float accumulatorLse, ReadOnlySpan<float> other, float otherLse, float otherScale = 1f)
    {
        if (accumulator.Length != other.Length)
        {
            throw new ArgumentException($"rows differ in length: accumulator {accumulator.Length}, other {other.Length}", nameof(other));
        }

        if (float.IsNegativeInfinity(otherLse))
        {
            return; // merging the identity changes nothing
        }

        if (float.IsNegativeInfinity(accumulatorLse))
        {
            VectorMath.Scale(other, otherScale, accumulator);
            accumulatorLse = otherLse;
            return;
        }

        var max = MathF.Max(accumulatorLse, otherLse);
        var selfWeight = MathF.Exp(accumulatorLse - max);
        var otherWeight = MathF.Exp(otherLse - max);
        var total = selfWeight + otherWeight; // in [1, 2]: no overflow, no log(0)
        var lse = max + MathF.Log(total);
        VectorMath.ScaleAndAdd(accumulator, selfWeight / total, other, otherWeight / total * otherScale);
        accumulatorLse = lse;
    }

    /// <summary>Merges two whole partial results row by row (same shape).</summary>
    public static void Merge(PartialAttention accumulator, PartialAttention other)
    {
        if (accumulator.Rows != other.Rows || accumulator.HeadDim != other.HeadDim)
        {
            throw new ArgumentException($"partials differ: {accumulator.Rows}×{accumulator.HeadDim} and {other.Rows}×{other.HeadDim}", nameof(other));
        }

        var d = accumulator.HeadDim;
        for (var row = 0; row < accumulator.Rows; row++)
        {
            MergeRow(accumulator.Output.AsSpan(row * d, d), ref accumulator.Lse[row], other.Output.AsSpan(row * d, d), other.Lse[row]);
        }
    }
}
