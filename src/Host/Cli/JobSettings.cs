using System.ComponentModel;
using Spectre.Console.Cli;

namespace RingActors.Host.Cli;

/// <summary>The options of one ring job, shared by <c>run</c> and <c>experiment</c>: shape, ring, and optional .npy inputs.</summary>
public class JobSettings : ShapeSettings
{
    [CommandOption("--devices <P>")]
    [Description("Devices in the ring (1 ≤ P ≤ N).")]
    [DefaultValue(4)]
    public int Devices { get; init; } = 4;

    [CommandOption("--layout <LAYOUT>")]
    [Description("How tokens are split over devices: contiguous, striped or zigzag.")]
    [DefaultValue("zigzag")]
    public string Layout { get; init; } = "zigzag";

    [CommandOption("--ring-pattern <SPEC>")]
    [Description("Restrict the ring itself to a sparse pattern: empty (query chunk, key block) pairs are skipped.")]
    public string? RingPattern { get; init; }

    [CommandOption("--threads-per-device <T>")]
    [Description("Threads one device's kernel may use (default ring-actors.threads-per-device, 1).")]
    public int? ThreadsPerDevice { get; init; }

    [CommandOption("--deadline <SECONDS>")]
    [Description("The job (each trial of an experiment) fails with one line if not finished by then: seconds in [[0.001, 86400]] (default ring-actors.job-deadline).")]
    public double? DeadlineSeconds { get; init; }

    /// <summary>--deadline as a TimeSpan; null for the configured default. Validate has bounded it, so the conversion cannot overflow.</summary>
    public TimeSpan? Deadline => DeadlineSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null;

    [CommandOption("--q-npy <FILE>")]
    [Description("Queries from a NumPy .npy file, [[B,H,N,d]] or [[H,N,d]], float32 or float64 (needs --k and --v).")]
    public string? Q { get; init; }

    [CommandOption("--k-npy <FILE>")]
    [Description("Keys from a .npy file, [[B,Hkv,N,d]] or [[Hkv,N,d]].")]
    public string? K { get; init; }

    [CommandOption("--v-npy <FILE>")]
    [Description("Values from a .npy file, shaped as the keys.")]
    public string? V { get; init; }

    [CommandOption("--backward")]
    [Description("Run the backward pass after the forward: dQ, dK and dV from the ring for a seeded output gradient dO (--seed), or --grad-out's, each checked against the float64 oracle.")]
    public bool Backward { get; init; }

    [CommandOption("--grad-out <FILE>")]
    [Description("With --backward: the output gradient dO from a .npy file in q's layout ([[B,H,N,d]] or [[H,N,d]], float32 or float64, finite).")]
    public string? GradOut { get; init; }

    [CommandOption("--partial-dtype <TYPE>")]
    [Description("Type each block's partial output and gradient contributions are kept in before their fp32 merge: fp32 (default) or bf16 (rounded as bf16 hardware rounds); bf16 is judged against its own tolerance.")]
    public string? PartialDtype { get; init; }

    /// <summary>--partial-dtype as the ring's setting; Validate has checked it.</summary>
    public Math.PartialPrecision Precision => PrecisionWords.Parse(PartialDtype);

    public override Spectre.Console.ValidationResult Validate()
    {
        if (GradOut is not null && !Backward)
        {
            return Spectre.Console.ValidationResult.Error("--grad-out needs --backward: it is the output gradient of the backward pass");
        }

        if (PrecisionWords.Error(PartialDtype) is { } dtype)
        {
            return Spectre.Console.ValidationResult.Error(dtype);
        }

        var given = new[] { Q, K, V }.Count(path => path is not null);
        if (given is not 0 and not 3)
        {
            return Spectre.Console.ValidationResult.Error("--q, --k and --v go together: give all three .npy files or none");
        }

        if (given == 3 && !MaskGiven)
        {
            return Spectre.Console.ValidationResult.Error(MaskWords.NpyNeedsMask);
        }

        if (ThreadsPerDevice is <= 0)
        {
            return Spectre.Console.ValidationResult.Error($"--threads-per-device must be ≥ 1, got {ThreadsPerDevice}");
        }

        if (Devices <= 0)
        {
            return Spectre.Console.ValidationResult.Error($"--devices must be ≥ 1, got {Devices}");
        }

        var error = OptionLimits.Whole("--threads-per-device", ThreadsPerDevice, 1, OptionLimits.MaxThreads)
            ?? OptionLimits.Whole("--devices", Devices, 1, OptionLimits.MaxDevices)
            ?? OptionLimits.Real("--deadline", DeadlineSeconds, OptionLimits.MinDeadlineSeconds, OptionLimits.MaxSeconds, " seconds");
        return error is null ? base.Validate() : Spectre.Console.ValidationResult.Error(error);
    }
}
