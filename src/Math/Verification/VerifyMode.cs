using System.Globalization;

namespace RingActors.Math.Verification;

/// <summary>How much of an output to check against <see cref="TiledReference"/>.</summary>
public enum VerifyKind
{
    /// <summary>Every row: O(pairs·d) time, like the job itself.</summary>
    Full,

    /// <summary>K sampled rows (<see cref="RowSample"/>): O(K·N·d) time.</summary>
    Rows,

    /// <summary>Nothing is checked.</summary>
    None,
}

/// <summary>The <c>--verify</c> choice: <c>full</c>, <c>rows:K</c> or <c>none</c> (a job without one takes the default, see the report builder).</summary>
public sealed record VerifyMode(VerifyKind Kind, int Rows = 0)
{
    /// <summary>Rows checked by default when a full check is predicted to cost more than the ring.</summary>
    public const int DefaultRows = 4096;

    public static readonly VerifyMode Full = new(VerifyKind.Full);

    public static readonly VerifyMode None = new(VerifyKind.None);

    public override string ToString() => Kind switch
    {
        VerifyKind.Full => "full",
        VerifyKind.None => "none",
        _ => string.Create(CultureInfo.InvariantCulture, $"rows:{Rows}"),
    };

    /// <summary>Parses <c>full</c>, <c>rows:K</c> (1 ≤ K) or <c>none</c>; anything else is an <see cref="ArgumentException"/> in one line.</summary>
    public static VerifyMode Parse(string text)
    {
        var value = (text ?? string.Empty).Trim().ToLowerInvariant();
        if (value == "full")
        {
            return Full;
        }

        if (value == "none")
        {
            return None;
        }

        if (value.StartsWith("rows:", StringComparison.Ordinal)
            && int.TryParse(value.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var rows) && rows >= 1)
        {
            return new VerifyMode(VerifyKind.Rows, rows);
        }

        throw new ArgumentException($"--verify must be full, rows:K (K ≥ 1) or none, got '{text}'", nameof(text));
    }
}
