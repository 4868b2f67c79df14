using RingActors.Host.Benchmarks;

namespace RingActors.Host.Tests;

public sealed class OpenBlasCoreSpec
{
    [Theory]
    // OpenBLAS's own report, as the bench's script writes it: openblas_get_config() + " core " + openblas_get_corename().
    [InlineData("OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Prescott MAX_THREADS=64 core Prescott", "Prescott")]
    [InlineData("OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64 core Cooperlake", "Cooperlake")]
    // threadpoolctl's internal_api, version and architecture.
    [InlineData("openblas 0.3.27 core SkylakeX", "SkylakeX")]
    [InlineData("openblas 0.3.27 core Opteron_SSE3", "Opteron_SSE3")]
    // threadpoolctl before 3.0 reports no architecture; MKL and the reference BLAS have no OpenBLAS core.
    [InlineData("openblas 0.3.27", null)]
    [InlineData("mkl 2024.1 core Haswell", null)]
    [InlineData("libblas.so.3", null)]
    public void Parse_must_take_the_core_from_an_openblas_description(string library, string? core) =>
        Assert.Equal(core, OpenBlasCore.Parse(library));

    [Theory]
    [InlineData("OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH core Prescott", "0.3.21")]
    [InlineData("openblas 0.3.27.dev core SkylakeX", "0.3.27")]
    [InlineData("libblas.so.3", null)]
    public void Version_must_be_the_number_after_openblas(string library, string? version) =>
        Assert.Equal(version, OpenBlasCore.Version(library));

    [Theory]
    // This machine today: 0.3.21 does not know family 6 model 207 and falls back to SSE3 kernels.
    [InlineData("Prescott", BlasIsa.Avx512, "SkylakeX")]
    [InlineData("prescott", BlasIsa.Avx512, "SkylakeX")] // OpenBLAS compares core names without case
    [InlineData("Sandybridge", BlasIsa.Avx512, "SkylakeX")]
    // Haswell's kernels on an AVX-512 machine are half width: the bench removes any inherited OPENBLAS_CORETYPE, so
    // OpenBLAS chose them by itself, by not recognising the processor, and an AVX-512 machine's baseline is SkylakeX.
    [InlineData("Haswell", BlasIsa.Avx512, "SkylakeX")]
    [InlineData("Zen", BlasIsa.Avx512, "SkylakeX")]
    [InlineData("Prescott", BlasIsa.Avx2, "Haswell")]
    [InlineData("Nehalem", BlasIsa.Avx2, "Haswell")]
    [InlineData("Excavator", BlasIsa.Avx2, "Haswell")]
    public void Override_must_raise_a_core_below_the_machine_to_its_widest_kernels(string chosen, BlasIsa machine, string coreType)
    {
        var chosenOverride = OpenBlasCore.Override(chosen, machine);
        Assert.NotNull(chosenOverride);
        Assert.Equal(coreType, chosenOverride.CoreType);
        Assert.Equal(chosen, chosenOverride.Chosen);
        Assert.Equal(machine, chosenOverride.Machine);
    }

    [Theory]
    [InlineData("SkylakeX", BlasIsa.Avx512)]
    [InlineData("Cooperlake", BlasIsa.Avx512)]
    [InlineData("SapphireRapids", BlasIsa.Avx512)]
    [InlineData("Haswell", BlasIsa.Avx2)]
    [InlineData("Zen", BlasIsa.Avx2)]
    [InlineData("SkylakeX", BlasIsa.Avx2)] // wider than the machine could only be a forced core: not ours to narrow
    [InlineData("Prescott", BlasIsa.Avx)] // no FMA: nothing better to force
    [InlineData("Prescott", BlasIsa.Sse)]
    [InlineData("Unknown", BlasIsa.Avx512)] // OpenBLAS's own name for a core it cannot name
    [InlineData("Zen5", BlasIsa.Avx512)] // a core newer than this table: leave it alone
    [InlineData("", BlasIsa.Avx512)]
    public void Override_must_leave_alone_a_core_as_wide_as_the_machine_or_unknown(string chosen, BlasIsa machine) =>
        Assert.Null(OpenBlasCore.Override(chosen, machine));

    [Fact]
    public void Every_core_must_be_classified_as_openblas_builds_them()
    {
        Assert.Equal(BlasIsa.Sse, OpenBlasCore.IsaOf("Prescott"));
        Assert.Equal(BlasIsa.Sse, OpenBlasCore.IsaOf("Barcelona"));
        Assert.Equal(BlasIsa.Avx, OpenBlasCore.IsaOf("Sandybridge"));
        Assert.Equal(BlasIsa.Avx, OpenBlasCore.IsaOf("Piledriver"));
        Assert.Equal(BlasIsa.Avx2, OpenBlasCore.IsaOf("Haswell"));
        Assert.Equal(BlasIsa.Avx512, OpenBlasCore.IsaOf("Cooperlake"));
        Assert.Null(OpenBlasCore.IsaOf("POWER9"));

        // The cores the bench forces must be the widest of their instruction set, or forcing them would narrow.
        Assert.Equal(BlasIsa.Avx512, OpenBlasCore.IsaOf(OpenBlasCore.Avx512CoreType));
        Assert.Equal(BlasIsa.Avx2, OpenBlasCore.IsaOf(OpenBlasCore.Avx2CoreType));
    }

    [Fact]
    public void Describe_must_say_what_openblas_chose_and_what_the_baseline_runs_with()
    {
        var prescott = OpenBlasCore.Override("Prescott", BlasIsa.Avx512)!;
        Assert.Equal(
            "OpenBLAS 0.3.21 chose its Prescott (SSE) kernels on this AVX-512 CPU, which it does not recognise; the baseline runs "
            + "with OPENBLAS_CORETYPE=SkylakeX (core SkylakeX), the fastest kernels it has for AVX-512",
            prescott.Describe("0.3.21", "SkylakeX"));

        // A build without AVX-512 kernels maps SkylakeX to Haswell: the line must say so rather than claim SkylakeX.
        var notTaken = prescott.Describe(null, "Haswell");
        Assert.StartsWith("OpenBLAS chose its Prescott (SSE) kernels", notTaken);
        Assert.Contains("OPENBLAS_CORETYPE=SkylakeX (but OpenBLAS reports core Haswell", notTaken);
        Assert.DoesNotContain("fastest", notTaken);
        Assert.Contains("could not be asked", prescott.Describe("0.3.21", null));
        Assert.DoesNotContain("fastest", prescott.Describe("0.3.21", null));
    }

    [Theory]
    [InlineData("Haswell", "Haswell", "core Haswell")]
    [InlineData("SkylakeX", "skylakex", "core skylakex")]
    [InlineData("SapphireRapids", "Cooperlake", "but OpenBLAS reports core Cooperlake: the numpy column is on those kernels")]
    [InlineData("Haswell", null, "OpenBLAS could not be asked which core it took")]
    public void Taken_must_report_the_core_openblas_took_not_the_one_asked_for(string coreType, string? reported, string words) =>
        Assert.Equal(words, OpenBlasCore.Taken(coreType, reported));
}
