namespace RingActors.Host.Benchmarks;

/// <summary>
/// What <c>bench transport</c> moves: hand-offs of each size (MiB of K+V float32), each sent enough times to move about
/// <see cref="BudgetMiB"/> but never fewer than <see cref="MinimumCount"/> nor more than <see cref="MaximumCount"/>, so
/// every loop is bounded whatever the options.
/// </summary>
public sealed record TransportPlan(IReadOnlyList<double> SizesMiB, double BudgetMiB)
{
    /// <summary>Fewest hand-offs per size: a window of 2 needs a few rounds to be measured in steady state.</summary>
    public const int MinimumCount = 4;

    /// <summary>Most hand-offs per size, however small the size.</summary>
    public const int MaximumCount = 4096;

    /// <summary>Floats of a head-dimension row: a block of n tokens holds n rows of K and n of V.</summary>
    public const int RowFloats = 128;

    public const double Mebibyte = 1024 * 1024;

    /// <summary>Hand-offs of <paramref name="sizeMiB"/>: ⌈budget / size⌉ within [<see cref="MinimumCount"/>, <see cref="MaximumCount"/>].</summary>
    public int CountFor(double sizeMiB)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sizeMiB);
        var count = System.Math.Ceiling(BudgetMiB / sizeMiB);
        return (int)System.Math.Clamp(count, MinimumCount, MaximumCount);
    }

    /// <summary>Tokens of a block whose K and V together hold <paramref name="sizeMiB"/> (rows of <see cref="RowFloats"/> float32; at least one).</summary>
    public static int TokensFor(double sizeMiB) =>
        System.Math.Max(1, (int)System.Math.Round(sizeMiB * Mebibyte / (2.0 * RowFloats * sizeof(float))));

    /// <summary>K+V bytes of a block of <paramref name="tokens"/> tokens.</summary>
    public static long PayloadBytes(int tokens) => 2L * tokens * RowFloats * sizeof(float);

    /// <summary>Parses "1,2,4" (MiB, decimals allowed); throws an <see cref="ArgumentException"/> naming the option on anything else.</summary>
    public static IReadOnlyList<double> ParseSizes(string text, string option)
    {
        ArgumentNullException.ThrowIfNull(text);
        var fields = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var sizes = new List<double>();
        foreach (var field in fields)
        {
            if (!double.TryParse(field, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var size)
                || size <= 0 || size > 256)
            {
                throw new ArgumentException($"{option} must list sizes in MiB in (0, 256], got '{text}'", option);
            }

            sizes.Add(size);
        }

        return sizes.Count > 0 ? sizes : throw new ArgumentException($"{option} must list at least one size in MiB, got '{text}'", option);
    }
}

/// <summary>Rate arithmetic of a timed transfer.</summary>
public static class TransferRate
{
    /// <summary>MiB/s of <paramref name="bytes"/> over <paramref name="seconds"/>; NaN when no time passed.</summary>
    public static double MiBPerSecond(long bytes, double seconds) =>
        seconds > 0 ? bytes / TransportPlan.Mebibyte / seconds : double.NaN;

    /// <summary>The median of <paramref name="values"/> (the mean of the middle two for an even count); NaN for none.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
