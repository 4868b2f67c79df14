using System.Runtime.Intrinsics.X86;
using System.Text.RegularExpressions;

namespace RingActors.Host.Benchmarks;

/// <summary>The widest vector instruction set a BLAS kernel family or a processor uses, narrowest first.</summary>
public enum BlasIsa
{
    /// <summary>SSE up to SSE4.2: 128-bit, no FMA.</summary>
    Sse,

    /// <summary>AVX (256-bit) without AVX2; AMD's Bulldozer family adds FMA3/FMA4 on 128-bit units.</summary>
    Avx,

    /// <summary>AVX2 with FMA: 256-bit fused multiply-add.</summary>
    Avx2,

    /// <summary>AVX-512 (F, VL): 512-bit fused multiply-add.</summary>
    Avx512,
}

/// <summary>
/// OpenBLAS chose kernels (a "core") narrower than this processor's vector instruction set, and the core to force with
/// OPENBLAS_CORETYPE instead.
/// </summary>
/// <param name="Chosen">The core OpenBLAS picked by itself, e.g. <c>Prescott</c>.</param>
/// <param name="CoreType">The OPENBLAS_CORETYPE to run with: <c>SkylakeX</c> or <c>Haswell</c>.</param>
/// <param name="Machine">The processor's instruction set the override is for.</param>
public sealed record OpenBlasOverride(string Chosen, string CoreType, BlasIsa Machine)
{
    /// <summary>
    /// One line saying what OpenBLAS chose, what the baseline runs with instead and which core OpenBLAS then reported
    /// (<paramref name="confirmed"/>; null when it could not be asked).
    /// </summary>
    public string Describe(string? version, string? confirmed)
    {
        var blas = version is null ? "OpenBLAS" : $"OpenBLAS {version}";
        var machine = OpenBlasCore.Describe(Machine);
        var fastest = OpenBlasCore.Took(CoreType, confirmed) ? $", the fastest kernels it has for {machine}" : "";
        return $"{blas} chose its {Chosen} ({OpenBlasCore.Describe(OpenBlasCore.IsaOf(Chosen))}) kernels on this {machine} CPU, which it does not recognise; "
            + $"the baseline runs with OPENBLAS_CORETYPE={CoreType} ({OpenBlasCore.Taken(CoreType, confirmed)}){fastest}";
    }
}

/// <summary>
/// Which vector instruction set each OpenBLAS x86-64 core (its kernel family, as <c>openblas_get_corename</c> names it)
/// uses, and whether the core OpenBLAS picked by itself is narrower than the processor. An OpenBLAS older than the
/// processor does not recognise it and falls back: 0.3.21 on a family 6 model 207 Xeon (AVX-512) takes its Prescott
/// (SSE3) kernels and runs sgemm at a fifth of its SkylakeX speed, a baseline no kernel should be compared with.
/// </summary>
public static partial class OpenBlasCore
{
    /// <summary>OpenBLAS's kernels for AVX-512 machines; its newer AVX-512 cores add bf16/AMX, not float32 speed.</summary>
    public const string Avx512CoreType = "SkylakeX";

    /// <summary>OpenBLAS's kernels for AVX2+FMA machines: the baseline an AVX2 machine gets.</summary>
    public const string Avx2CoreType = "Haswell";

    // The names in OpenBLAS's driver/others/dynamic.c corename[] (x86-64), by the widest instruction set their
    // kernels use. Bulldozer to Excavator are AVX with 128-bit FMA units (Excavator's AVX2 unused by its kernels);
    // Zen runs the Haswell kernels. Cores 32-bit only (Katmai, Coppermine, Northwood, Banias, Athlon) are listed
    // for completeness: a 64-bit OpenBLAS replaces them with Prescott.
    private static readonly Dictionary<string, BlasIsa> Cores = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Katmai"] = BlasIsa.Sse,
        ["Coppermine"] = BlasIsa.Sse,
        ["Northwood"] = BlasIsa.Sse,
        ["Prescott"] = BlasIsa.Sse,
        ["Banias"] = BlasIsa.Sse,
        ["Atom"] = BlasIsa.Sse,
        ["Core2"] = BlasIsa.Sse,
        ["Penryn"] = BlasIsa.Sse,
        ["Dunnington"] = BlasIsa.Sse,
        ["Nehalem"] = BlasIsa.Sse,
        ["Athlon"] = BlasIsa.Sse,
        ["Opteron"] = BlasIsa.Sse,
        ["Opteron_SSE3"] = BlasIsa.Sse,
        ["Barcelona"] = BlasIsa.Sse,
        ["Nano"] = BlasIsa.Sse,
        ["Bobcat"] = BlasIsa.Sse,
        ["Sandybridge"] = BlasIsa.Avx,
        ["Bulldozer"] = BlasIsa.Avx,
        ["Piledriver"] = BlasIsa.Avx,
        ["Steamroller"] = BlasIsa.Avx,
        ["Excavator"] = BlasIsa.Avx,
        ["Haswell"] = BlasIsa.Avx2,
        ["Zen"] = BlasIsa.Avx2,
        ["SkylakeX"] = BlasIsa.Avx512,
        ["Cooperlake"] = BlasIsa.Avx512,
        ["SapphireRapids"] = BlasIsa.Avx512,
    };

    /// <summary>The widest vector instruction set this process's runtime may use (it checks the OS saves the registers).</summary>
    public static BlasIsa Machine() =>
        Avx512F.IsSupported && Avx512F.VL.IsSupported ? BlasIsa.Avx512
        : Avx2.IsSupported && Fma.IsSupported ? BlasIsa.Avx2
        : Avx.IsSupported ? BlasIsa.Avx
        : BlasIsa.Sse;

    /// <summary>
    /// The core named at the end of an OpenBLAS library description (<c>… core Prescott</c>, as the bench's numpy script
    /// writes both for OpenBLAS's own report and for threadpoolctl's <c>architecture</c>), or null when there is none.
    /// </summary>
    public static string? Parse(string library) =>
        library.Contains("openblas", StringComparison.OrdinalIgnoreCase) && CoreSuffix().Match(library) is { Success: true } match
            ? match.Groups[1].Value
            : null;

    /// <summary>The OpenBLAS version in a library description (<c>OpenBLAS 0.3.21 …</c>, <c>openblas 0.3.27</c>), or null.</summary>
    public static string? Version(string library) => VersionWord().Match(library) is { Success: true } match ? match.Groups[1].Value : null;

    /// <summary>The instruction set of an OpenBLAS core's kernels, or null for a name this table does not know.</summary>
    public static BlasIsa? IsaOf(string core) => Cores.TryGetValue(core, out var isa) ? isa : null;

    /// <summary>
    /// The OPENBLAS_CORETYPE to force when OpenBLAS chose <paramref name="chosen"/> on a <paramref name="machine"/>
    /// processor: SkylakeX on AVX-512 for any narrower core (Haswell's kernels there run at half width), Haswell on
    /// AVX2+FMA for a core below AVX2; null when the core is as wide as the machine, or unknown (what cannot be
    /// classified is not overridden).
    /// </summary>
    public static OpenBlasOverride? Override(string chosen, BlasIsa machine)
    {
        var target = machine switch
        {
            BlasIsa.Avx512 => Avx512CoreType,
            BlasIsa.Avx2 => Avx2CoreType,
            _ => null, // no FMA: OpenBLAS has nothing markedly better to offer than what it picked
        };
        return target is not null && IsaOf(chosen) is { } isa && isa < IsaOf(target)
            ? new OpenBlasOverride(chosen, target, machine)
            : null;
    }

    /// <summary>Whether OpenBLAS reported taking the core it was asked for (it compares names without case).</summary>
    public static bool Took(string coreType, string? reported) => string.Equals(coreType, reported, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// What OpenBLAS reported under OPENBLAS_CORETYPE=<paramref name="coreType"/>, in a note's words: a build without
    /// those kernels maps them to narrower ones (and 0.3.21 cannot force SapphireRapids: it takes Cooperlake), which
    /// the note must say rather than claim the core asked for.
    /// </summary>
    public static string Taken(string coreType, string? reported) => reported switch
    {
        null => "OpenBLAS could not be asked which core it took",
        _ when Took(coreType, reported) => $"core {reported}",
        _ => $"but OpenBLAS reports core {reported}: the numpy column is on those kernels",
    };

    /// <summary>The instruction set as a reader knows it: <c>SSE</c>, <c>AVX</c>, <c>AVX2</c>, <c>AVX-512</c>.</summary>
    public static string Describe(BlasIsa? isa) => isa switch
    {
        BlasIsa.Sse => "SSE",
        BlasIsa.Avx => "AVX",
        BlasIsa.Avx2 => "AVX2",
        BlasIsa.Avx512 => "AVX-512",
        _ => "an instruction set not known here",
    };

    [GeneratedRegex(@"\bcore\s+([A-Za-z0-9_]+)\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex CoreSuffix();

    [GeneratedRegex(@"\bopenblas\s+v?(\d+(?:\.\d+)+)", RegexOptions.IgnoreCase)]
    private static partial Regex VersionWord();
}
