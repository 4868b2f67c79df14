namespace RingActors.Math;

/// <summary>How far an output is from a reference: max absolute error, relative Frobenius error and cosine similarity.</summary>
public readonly record struct ErrorMetrics(double MaxAbsError, double RelativeError, double CosineSimilarity)
{
    /// <summary>Compares <paramref name="actual"/> with <paramref name="expected"/> element by element, accumulating in double.</summary>
    public static ErrorMetrics Compare(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        var widened = new double[expected.Length];
        for (var i = 0; i < widened.Length; i++)
        {
            widened[i] = expected[i];
        }

        return Compare(actual, widened);
    }

    /// <summary>Compares with a double-precision reference (the oracle) without rounding it to float first.</summary>
    public static ErrorMetrics Compare(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        if (actual.Length != expected.Length)
        {
            throw new ArgumentException($"actual holds {actual.Length} values, expected {expected.Length}", nameof(actual));
        }

        double maxAbs = 0, diffSquares = 0, expectedSquares = 0, actualSquares = 0, dot = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            double a = actual[i], e = expected[i];
            if (!double.IsFinite(a))
            {
                // A NaN or ∞ is never reported as a number: it is an infinite error.
                return new ErrorMetrics(double.PositiveInfinity, double.PositiveInfinity, 0);
            }

            var diff = a - e;
            maxAbs = System.Math.Max(maxAbs, System.Math.Abs(diff));
            diffSquares += diff * diff;
            expectedSquares += e * e;
            actualSquares += a * a;
            dot += a * e;
        }

        return FromSums(maxAbs, diffSquares, expectedSquares, actualSquares, dot);
    }

    /// <summary>
    /// The metrics from sums accumulated elsewhere (a streaming comparison): max |a − e|, Σ(a − e)², Σe², Σa², Σa·e.
    /// Relative error is √(Σ(a − e)² / Σe²) (√Σ(a − e)² when the reference is all zeros).
    /// </summary>
    public static ErrorMetrics FromSums(double maxAbs, double diffSquares, double expectedSquares, double actualSquares, double dot)
    {
        var relative = expectedSquares > 0 ? System.Math.Sqrt(diffSquares / expectedSquares) : System.Math.Sqrt(diffSquares);
        var cosine = actualSquares > 0 && expectedSquares > 0 ? dot / System.Math.Sqrt(actualSquares * expectedSquares)
            : actualSquares == expectedSquares ? 1 : 0;
        return new ErrorMetrics(maxAbs, relative, cosine);
    }
}
