using System.ComponentModel;
using System.Reflection;
using System.Text.Json;
using RingActors.Host.Benchmarks;
using RingActors.Host.Commands;
using RingActors.Math.Kernels;

namespace RingActors.Host.Tests;

public sealed class KernelBenchCommandSpec : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ringactors-kernels-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("--seq", "0", "--seq")]
    [InlineData("--dims", "64,x", "--dims")]
    [InlineData("--repetitions", "0", "--repetitions")]
    public void Bench_kernels_must_refuse_bad_options_in_one_line(string option, string value, string named)
    {
        var (exitCode, _, errors) = CommandLine.Run("bench", "kernels", option, value, "--no-numpy", "--no-avx2");
        Assert.Equal(2, exitCode);
        Assert.Contains(named, errors);
        Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Bench_kernels_must_write_every_cell_with_its_isa_to_json()
    {
        var path = Path.Combine(_directory, "kernels.json");
        var (exitCode, output, errors) = CommandLine.Run("bench", "kernels", "--seq", "64,100", "--dims", "8", "--repetitions", "1", "--no-numpy", "--no-avx2", "--json", path);
        Assert.Equal(string.Empty, errors);
        Assert.Equal(0, exitCode);
        Assert.Contains(KernelIsa.Describe(KernelIsa.Selected), output);
        Assert.Contains("numpy skipped", output);

        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var cells = json.RootElement.GetProperty("cells").EnumerateArray().ToList();
        var threads = Environment.ProcessorCount >= 2 ? 2 : 1;
        Assert.Equal(2 * threads, cells.Count);
        foreach (var cell in cells)
        {
            foreach (var key in new[] { "n", "d", "threads", "isa", "gflops", "peakGflops", "peakShare", "causalGflops", "numpyGflops", "numpyCoreType", "backwardGflops", "backwardPeakShare" })
            {
                Assert.True(cell.TryGetProperty(key, out _), $"cell without {key}: {cell}");
            }

            Assert.Equal(KernelIsa.Id(KernelIsa.Selected), cell.GetProperty("isa").GetString());
            Assert.True(cell.GetProperty("gflops").GetDouble() > 0);
            Assert.True(cell.GetProperty("backwardGflops").GetDouble() > 0);
            Assert.True(cell.GetProperty("backwardPeakShare").GetDouble() > 0);

            // Each cell is a share of the probe trials run in turn with its own kernel runs.
            var peak = cell.GetProperty("peakGflops").GetDouble();
            Assert.True(peak > 0);
            Assert.Equal(cell.GetProperty("gflops").GetDouble() / peak, cell.GetProperty("peakShare").GetDouble(), 9);
            Assert.Equal(cell.GetProperty("backwardGflops").GetDouble() / peak, cell.GetProperty("backwardPeakShare").GetDouble(), 9);
            Assert.Equal(JsonValueKind.Null, cell.GetProperty("numpyGflops").ValueKind);
            Assert.Equal(JsonValueKind.Null, cell.GetProperty("numpyCoreType").ValueKind);
        }

        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("numpyCoreType").ValueKind);

        int[] sizes = [64, 100];
        Assert.Equal(sizes.SelectMany(n => Enumerable.Repeat(n, threads)), cells.Select(c => c.GetProperty("n").GetInt32()));
        Assert.Equal(threads, json.RootElement.GetProperty("peaks").GetArrayLength());
    }

    [Fact]
    public void Targets_must_be_judged_by_the_worst_cell_of_each_isa()
    {
        var result = new KernelBenchResult(
            "test cpu",
            [new KernelPeak("avx2", 1, 100, null)],
            [
                new KernelCell(4096, 64, 1, "avx2", 70, 0.70, 140, 30, 55, 0.55),
                new KernelCell(8192, 64, 1, "avx2", 64, 0.64, 128, 20, 45, 0.45, 100, "Haswell"),
                new KernelCell(4096, 64, 2, "avx2", 130, 0.61, 200, null),
            ],
            null,
            null);
        var targets = result.Targets().ToDictionary(t => t.Name);
        Assert.Equal(0.64, targets["one thread, share of FMA peak"].Worst, 6);
        Assert.False(targets["one thread, share of FMA peak"].Met);
        Assert.Equal("N=8192 d=64 threads=1", targets["one thread, share of FMA peak"].WorstCell);
        Assert.True(targets["two threads, share of FMA peak"].Met);
        Assert.Equal(70.0 / 30, targets["kernel / numpy"].Worst, 6); // the cell without numpy is not judged
        Assert.Equal(200.0 / 130, targets["causal / non-causal"].Worst, 6);
        Assert.False(targets["causal / non-causal"].Met);
        Assert.Equal(0.45, targets["backward one thread, share of FMA peak"].Worst, 6); // two-thread cells are not judged
        Assert.Equal("N=8192 d=64 threads=1", targets["backward one thread, share of FMA peak"].WorstCell);
        Assert.False(targets["backward one thread, share of FMA peak"].Met);

        var back = KernelBenchResult.FromJson(result.ToJson());
        Assert.Equal(result.Cells, back.Cells);
        Assert.Equal("Haswell", back.Cells[1].NumpyCoreType);

        var overridden = KernelBenchResult.FromJson((result with { NumpyCoreType = "SkylakeX", Peaks = [new KernelPeak("avx512", 1, 200, 150, "SkylakeX")] }).ToJson());
        Assert.Equal("SkylakeX", overridden.NumpyCoreType);
        Assert.Equal("SkylakeX", overridden.Peaks[0].SgemmCoreType);
    }

    [Fact]
    public void Help_must_print_each_option_default_the_option_really_has()
    {
        var settings = new KernelBenchCommand.Settings();
        var defaults = typeof(KernelBenchCommand.Settings).GetProperties()
            .Select(p => (Property: p, Attribute: p.GetCustomAttribute<DefaultValueAttribute>()))
            .Where(p => p.Attribute is not null)
            .ToList();
        Assert.Contains(defaults, p => p.Property.Name == nameof(settings.Repetitions));
        foreach (var (property, attribute) in defaults)
        {
            Assert.Equal(property.GetValue(settings), attribute!.Value);
        }
    }

    [Theory]
    [InlineData("OpenBLAS 0.3.21 DYNAMIC_ARCH core Cooperlake", "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so", true)]
    [InlineData("openblas 0.3.27", "/opt/venv/numpy.libs/libscipy_openblas64_.so", true)]
    [InlineData("libblas.so.3", "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3", false)]
    public void Numpy_must_be_a_baseline_only_on_an_optimised_blas(string library, string path, bool optimised) =>
        Assert.Equal(optimised, new NumpyInfo("1.24.2", library, path, 1, "test").IsOptimised);

    [Fact]
    public void A_peak_below_sgemm_must_give_way_to_sgemm()
    {
        var peak = new KernelPeak("avx2", 2, 118, 143);
        Assert.True(peak.ProbeBelowSgemm);
        Assert.Equal(143, peak.Gflops);
        Assert.Equal(190, new KernelPeak("avx2", 2, 190, 143).Gflops);
        Assert.Equal(143, peak.PeakOf(120)); // a cell whose own trials ran below sgemm is judged against sgemm
        Assert.Equal(150, peak.PeakOf(150));
        Assert.Equal(90, new KernelPeak("avx2", 1, 100, null).PeakOf(90));
    }
}
