using RingActors.Math;

namespace RingActors.Host.Cli;

/// <summary>The words of <c>--partial-dtype</c>: <c>fp32</c> and <c>bf16</c>, as the report and JSON spell them.</summary>
public static class PrecisionWords
{
    public const string Allowed = "fp32 or bf16";

    /// <summary>The precision <paramref name="word"/> names; null (the option not given) is fp32.</summary>
    public static PartialPrecision Parse(string? word) => word?.Trim().ToLowerInvariant() switch
    {
        null or "fp32" => PartialPrecision.Fp32,
        "bf16" => PartialPrecision.Bf16,
        _ => throw new ArgumentException(Error(word)),
    };

    /// <summary>Null when <paramref name="word"/> is absent or a precision; else the one-line error.</summary>
    public static string? Error(string? word) =>
        word?.Trim().ToLowerInvariant() is null or "fp32" or "bf16" ? null : $"--partial-dtype must be {Allowed}, got '{word}'";

    public static string Name(PartialPrecision precision) => precision == PartialPrecision.Bf16 ? "bf16" : "fp32";
}
