using System.ComponentModel;
using RingActors.Math;
using Spectre.Console.Cli;

namespace RingActors.Host.Cli;

/// <summary>The sizes of an attention problem, shared by every verb that makes seeded random inputs.</summary>
public class ShapeSettings : CommandSettings
{
    [CommandOption("--batch <B>")]
    [Description("Batch size.")]
    [DefaultValue(1)]
    public int Batch { get; init; } = 1;

    [CommandOption("--seq <N>")]
    [Description("Sequence length in tokens.")]
    [DefaultValue(4096)]
    public int Seq { get; init; } = 4096;

    [CommandOption("--heads <H>")]
    [Description("Query heads.")]
    [DefaultValue(8)]
    public int Heads { get; init; } = 8;

    [CommandOption("--kv-heads <HKV>")]
    [Description("Key/value heads; heads must be a multiple of it (grouped-query attention).")]
    [DefaultValue(2)]
    public int KvHeads { get; init; } = 2;

    [CommandOption("--dim <D>")]
    [Description("Head dimension.")]
    [DefaultValue(64)]
    public int Dim { get; init; } = 64;

    [CommandOption("--causal")]
    [Description("Causal mask: a token attends only to itself and earlier tokens (the default).")]
    public bool Causal { get; init; }

    [CommandOption("--no-causal")]
    [Description("No causal mask: every token attends every key (bidirectional, PyTorch's is_causal=False).")]
    public bool NoCausal { get; init; }

    /// <summary>Whether the job is causal: every verb is causal unless --no-causal is given (<see cref="MaskWords"/>).</summary>
    public bool IsCausal => !NoCausal;

    /// <summary>Whether the user chose the mask; with .npy inputs the default is not assumed.</summary>
    public bool MaskGiven => Causal || NoCausal;

    [CommandOption("--seed <S>")]
    [Description("Seed of the random inputs.")]
    [DefaultValue(42)]
    public int Seed { get; init; } = 42;

    [CommandOption("--threads <T>")]
    [Description("Threads the kernels may use (default: all cores).")]
    public int? Threads { get; init; }

    public int ThreadCount => Threads ?? Environment.ProcessorCount;

    public AttentionShape Shape() => new AttentionShape(Batch, Heads, KvHeads, Seq, Dim).Validate();

    public override Spectre.Console.ValidationResult Validate()
    {
        if (MaskWords.Conflict(Causal, NoCausal) is { } conflict)
        {
            return Spectre.Console.ValidationResult.Error(conflict);
        }

        if (Threads is <= 0)
        {
            return Spectre.Console.ValidationResult.Error($"--threads must be ≥ 1, got {Threads}");
        }

        if (OptionLimits.Whole("--threads", Threads, 1, OptionLimits.MaxThreads) is { } threads)
        {
            return Spectre.Console.ValidationResult.Error(threads);
        }

        try
        {
            Shape();
        }
        catch (ArgumentException error)
        {
            return Spectre.Console.ValidationResult.Error(UserError.WithoutParameter(error));
        }

        return base.Validate();
    }
}
