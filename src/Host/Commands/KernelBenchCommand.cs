using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using RingActors.Host.Benchmarks;
using RingActors.Host.Reporting;
using RingActors.Math;
using RingActors.Math.Kernels;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RingActors.Host.Commands;

/// <summary>
/// <c>ringactors bench kernels</c>: GFLOP/s of the blockwise kernel (one head, counted as 4·N²·d as if non-causal, as
/// ANCHORS.md §5 counts) and of its backward (10·N²·d, §7), as a share of the FMA peak measured in the same run on the same vector path, next to numpy
/// when numpy runs an optimised BLAS. On an AVX-512 machine the AVX2 path runs too, in a child process of this program.
/// </summary>
public sealed class KernelBenchCommand(IAnsiConsole console) : Command<KernelBenchCommand.Settings>
{
    private const int SgemmSize = 2048;

    public sealed class Settings : CommandSettings
    {
        [CommandOption("--seq <N>")]
        [Description("Sequence lengths, comma-separated.")]
        [DefaultValue("4096,8192")]
        public string Seq { get; init; } = "4096,8192";

        [CommandOption("--dims <D>")]
        [Description("Head dimensions, comma-separated.")]
        [DefaultValue("64,128")]
        public string Dims { get; init; } = "64,128";

        [CommandOption("--repetitions <R>")]
        [Description("Timed runs per cell: non-causal, causal, backward and an FMA probe trial in turn, the best of each reported")]
        [DefaultValue(5)]
        public int Repetitions { get; init; } = 5;

        [CommandOption("--no-numpy")]
        [Description("Skip the numpy baseline and the sgemm check of the FMA peak even when numpy is installed.")]
        public bool NoNumpy { get; init; }

        [CommandOption("--no-avx2")]
        [Description("On an AVX-512 machine, skip the AVX2 rows (a child process of this program with AVX-512 disabled).")]
        public bool NoAvx2 { get; init; }

        [CommandOption("--json <FILE>")]
        [Description("Also write every cell (n, d, threads, isa, gflops, peakShare, causalGflops, numpyGflops, numpyCoreType, backwardGflops, backwardPeakShare), the peaks, numpy's BLAS and the targets as JSON.")]
        public string? Json { get; init; }

        public override Spectre.Console.ValidationResult Validate()
        {
            if (Repetitions <= 0)
            {
                return Spectre.Console.ValidationResult.Error($"--repetitions must be ≥ 1, got {Repetitions}");
            }

            if (Cli.OptionLimits.Whole("--repetitions", Repetitions, 1, Cli.OptionLimits.MaxRepeats) is { } repetitions)
            {
                return Spectre.Console.ValidationResult.Error(repetitions);
            }

            try
            {
                // Before any measurement: a typo in the lists, or a size one array cannot hold, fails at once.
                foreach (var n in ParseList(Seq, "--seq"))
                {
                    foreach (var d in ParseList(Dims, "--dims"))
                    {
                        new AttentionShape(1, 1, 1, n, d).Validate();
                    }
                }
            }
            catch (ArgumentException error)
            {
                return Spectre.Console.ValidationResult.Error(Cli.UserError.WithoutParameter(error));
            }

            return base.Validate();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var sizes = ParseList(settings.Seq, "--seq");
        var dims = ParseList(settings.Dims, "--dims");
        int[] threadCounts = Environment.ProcessorCount >= 2 ? [1, 2] : [1];
        var isa = KernelIsa.Id(KernelIsa.Selected);

        var python = settings.NoNumpy ? null : NumpyBaseline.FindPython();
        var numpy = python is null ? null : NumpyBaseline.Describe(python, threadCounts[^1]);
        var baseline = python is not null && numpy is { IsOptimised: true } ? python : null;
        var numpyNote = NumpyNote(settings.NoNumpy, python, numpy);

        // An OpenBLAS that does not recognise this CPU falls back to narrower kernels (0.3.21 on this Xeon: Prescott, a
        // fifth of its SkylakeX sgemm); a kernel compared with that is compared with a crippled baseline. The baseline
        // then runs on the widest kernels OpenBLAS has for this CPU, and numpy is asked again which core it took.
        var coreOverride = baseline is not null && numpy?.BlasCore is { } chosen ? OpenBlasCore.Override(chosen, OpenBlasCore.Machine()) : null;
        var coreType = coreOverride?.CoreType;
        if (coreOverride is not null)
        {
            var forced = NumpyBaseline.Describe(baseline!, threadCounts[^1], coreOverride.CoreType);
            numpyNote = coreOverride.Describe(OpenBlasCore.Version(numpy!.Library), forced?.BlasCore) + "; OPENBLAS_L2_SIZE unset, best of runs";
            numpy = forced ?? numpy;
        }

        // Native path: this process. The AVX2 path on an AVX-512 machine: the same program with AVX-512 switched off.
        var peaks = threadCounts.Select(t => new KernelPeak(isa, t, FmaPeak.Measure(t, TimeSpan.FromSeconds(1)) / 1e9, Sgemm(baseline, t, coreType), coreType)).ToList();
        var cells = new List<KernelCell>();
        foreach (var n in sizes)
        {
            foreach (var d in dims)
            {
                foreach (var threads in threadCounts)
                {
                    var flops = 4.0 * n * (double)n * d;
                    var best = KernelCellTimer.Measure(n, d, threads, settings.Repetitions);
                    var full = flops / best.ForwardSeconds / 1e9;
                    var causal = flops / best.CausalSeconds / 1e9;
                    var numpyRate = NumpyGflops(baseline, n, d, threads, settings.Repetitions, coreType);
                    var backward = 10.0 * n * (double)n * d / best.BackwardSeconds / 1e9;
                    var peak = peaks.Single(p => p.Threads == threads).PeakOf(best.PeakFlops / 1e9);
                    cells.Add(new KernelCell(n, d, threads, isa, full, full / peak, causal, numpyRate, backward, backward / peak, peak, numpyRate is null ? null : coreType));
                }
            }
        }

        var childNotes = new List<string>();
        if (KernelIsa.Selected == VectorIsa.Vector512 && !settings.NoAvx2)
        {
            var (child, childNote) = RunAvx2Child(settings);
            childNotes.Add(childNote);
            if (child is not null)
            {
                // The AVX2 rows are judged as an AVX2 machine would judge them: the peak against OpenBLAS's Haswell (AVX2)
                // sgemm, since its AVX-512 sgemm is no bound for 256-bit code, and numpy on those same Haswell kernels.
                // OPENBLAS_CORETYPE steers OpenBLAS alone: another BLAS keeps the AVX-512 rows' numpy rate.
                var haswell = baseline is not null && numpy is { IsOpenBlas: true } ? OpenBlasCore.Avx2CoreType : null;
                var childPeaks = child.Peaks.Select(p => Sgemm(baseline, p.Threads, OpenBlasCore.Avx2CoreType) is { } sgemm
                    ? p with { SgemmGflops = sgemm, SgemmCoreType = haswell }
                    : p with { SgemmGflops = null }).ToList();
                peaks.AddRange(childPeaks);
                cells.AddRange(child.Cells.Select(c =>
                {
                    var peak = childPeaks.Single(p => p.Threads == c.Threads).PeakOf(c.PeakGflops);
                    var native = cells.FirstOrDefault(n => n.N == c.N && n.D == c.D && n.Threads == c.Threads);
                    var numpyRate = haswell is null ? native?.NumpyGflops : NumpyGflops(baseline, c.N, c.D, c.Threads, settings.Repetitions, haswell);
                    var numpyCore = haswell is null || numpyRate is null ? native?.NumpyCoreType : haswell;
                    return c with { PeakShare = c.Gflops / peak, NumpyGflops = numpyRate, BackwardPeakShare = c.BackwardGflops / peak, PeakGflops = peak, NumpyCoreType = numpyCore };
                }));
                if (haswell is not null)
                {
                    var reported = NumpyBaseline.Describe(baseline!, threadCounts[^1], haswell)?.BlasCore;
                    childNotes.Add($"AVX2 rows: numpy with OPENBLAS_CORETYPE={haswell} ({OpenBlasCore.Taken(haswell, reported)}), OpenBLAS's AVX2 kernels, the baseline an AVX2 machine gets, as for their sgemm check");
                }
                else if (baseline is not null)
                {
                    childNotes.Add("AVX2 rows: numpy's rate is the AVX-512 rows' (its BLAS is not OpenBLAS, so OPENBLAS_CORETYPE cannot give it AVX2 kernels)");
                }
            }
        }

        var result = new KernelBenchResult(CpuModel(), peaks, cells, numpy, numpyNote, coreType);
        Print(result, childNotes);
        if (settings.Json is { } path)
        {
            File.WriteAllText(path, result.ToJson());
        }

        return 0;
    }

    private void Print(KernelBenchResult result, IEnumerable<string> childNotes)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"blockwise kernel, one head, fp32, {result.Cpu}; GFLOP/s counted as 4·N²·d");
        table.AddColumns("ISA", "N", "d", "threads", "non-causal GFLOP/s", "FMA peak GFLOP/s", "% of FMA peak", "causal GFLOP/s", "causal speed-up", "numpy GFLOP/s", "kernel / numpy");
        foreach (var cell in result.Cells)
        {
            table.AddRow(
                Describe(cell.Isa),
                Text(cell.N),
                Text(cell.D),
                Text(cell.Threads),
                Units.Fixed(cell.Gflops, 1),
                Units.Fixed(cell.PeakGflops, 1),
                Units.Percent(cell.PeakShare),
                Units.Fixed(cell.CausalGflops, 1),
                Units.Ratio(cell.CausalGflops / cell.Gflops),
                cell.NumpyGflops is { } rate ? Units.Fixed(rate, 1) : "–",
                cell.NumpyGflops is { } r ? Units.Ratio(cell.Gflops / r) : "–");
        }

        console.Write(table);
        var backward = new Table().Border(TableBorder.Rounded)
            .Title($"backward kernel (dQ, dK, dV), one head, fp32, non-causal; GFLOP/s counted as 10·N²·d");
        backward.AddColumns("ISA", "N", "d", "threads", "backward GFLOP/s", "% of FMA peak", "backward / forward time");
        foreach (var cell in result.Cells.Where(c => c.BackwardGflops is not null))
        {
            backward.AddRow(
                Describe(cell.Isa),
                Text(cell.N),
                Text(cell.D),
                Text(cell.Threads),
                Units.Fixed(cell.BackwardGflops!.Value, 1),
                cell.BackwardPeakShare is { } share ? Units.Percent(share) : "–",
                Units.Ratio(2.5 * cell.Gflops / cell.BackwardGflops.Value)); // 10·N²·d against 4·N²·d FLOPs
        }

        console.Write(backward);
        foreach (var peak in result.Peaks)
        {
            var kernels = peak.SgemmCoreType is { } core ? $" ({core} kernels)" : "";
            var sgemm = peak.SgemmGflops is { } s ? string.Create(CultureInfo.InvariantCulture, $", OpenBLAS sgemm {SgemmSize}³ {s:F1}{kernels}") : "";
            var verdict = peak.ProbeBelowSgemm ? " — the probe is below sgemm: a wrong peak" : "";
            console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"FMA peak {Describe(peak.Isa)}, {peak.Threads} thread(s): probe {peak.ProbeGflops:F1} GFLOP/s over 1 s{sgemm}{verdict}"));
        }

        console.WriteLine("each cell's FMA peak: the best probe trial run in turn with its kernel runs, never below that path's sgemm");

        if (result.Numpy is { } numpy)
        {
            console.WriteLine(numpy.Describe());
        }

        if (result.NumpyNote is { } numpyNote)
        {
            console.WriteLine(numpyNote);
        }

        foreach (var note in childNotes)
        {
            console.WriteLine(note);
        }

        foreach (var target in result.Targets())
        {
            console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"target {Describe(target.Isa)}: {target.Name} ≥ {target.Bound:0.##}: worst {target.Worst:0.000} at {target.WorstCell}: {(target.Met ? "met" : "NOT met")}"));
        }
    }

    private static string Describe(string isa) => isa == KernelIsa.Id(VectorIsa.Vector512) ? KernelIsa.Describe(VectorIsa.Vector512) : KernelIsa.Describe(VectorIsa.Vector256);

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string? NumpyNote(bool skipped, string? python, NumpyInfo? numpy) => (skipped, python, numpy) switch
    {
        (true, _, _) => "numpy skipped (--no-numpy)",
        (_, null, _) => $"numpy not installed: no numpy column (for the baseline: {NumpyBaseline.InstallHint})",
        (_, _, null) => "numpy could not report its BLAS: no numpy column",
        (_, _, { IsOptimised: false }) =>
            $"not a baseline: numpy runs the reference BLAS, 10–30× slower than an optimised one, so a ratio against it says nothing; {NumpyBaseline.InstallHint}",
        _ => "numpy with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, best of runs",
    };

    /// <summary>numpy's dense attention in GFLOP/s counted as the kernel's are (4·N²·d), or null without a baseline.</summary>
    private static double? NumpyGflops(string? python, int n, int d, int threads, int repetitions, string? coreType) =>
        python is not null && NumpyBaseline.AttentionSeconds(python, n, d, threads, repetitions, coreType) is { } seconds
            ? 4.0 * n * (double)n * d / seconds / 1e9
            : null;

    private static double? Sgemm(string? python, int threads, string? coreType) =>
        python is null ? null : NumpyBaseline.SgemmRate(python, SgemmSize, threads, repetitions: 3, coreType) / 1e9;

    /// <summary>The same program and sizes with AVX-512 disabled for the JIT; its rows, or why there are none.</summary>
    private static (KernelBenchResult? Result, string Note) RunAvx2Child(Settings settings)
    {
        var json = Path.Combine(Path.GetTempPath(), $"ringactors-avx2-{Environment.ProcessId}.json");
        try
        {
            var info = SelfStartInfo();
            foreach (var argument in new[] { "bench", "kernels", "--seq", settings.Seq, "--dims", settings.Dims, "--repetitions", Text(settings.Repetitions), "--no-numpy", "--no-avx2", "--json", json })
            {
                info.ArgumentList.Add(argument);
            }

            // .NET 10 reads DOTNET_EnableAVX512; DOTNET_EnableAVX512F=0 alone no longer turns Vector512 off there.
            info.Environment["DOTNET_EnableAVX512"] = "0";
            info.Environment["DOTNET_EnableAVX512F"] = "0";
            info.RedirectStandardOutput = true;
            info.RedirectStandardError = true;
            using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the AVX2 child");
            var errorText = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0 || !File.Exists(json))
            {
                return (null, $"AVX2 rows missing: the child process exited with {process.ExitCode}: {errorText.Result.Split('\n')[0]}");
            }

            var child = KernelBenchResult.FromJson(File.ReadAllText(json));
            return child.Cells.All(c => c.Isa == KernelIsa.Id(VectorIsa.Vector256))
                ? (child, "AVX2 rows: a child process of this program with DOTNET_EnableAVX512=0 (its own FMA probe)")
                : (null, "AVX2 rows missing: the child process still ran Vector512 with AVX-512 disabled");
        }
        catch (System.ComponentModel.Win32Exception error)
        {
            return (null, $"AVX2 rows missing: could not start the child process ({error.Message})");
        }
        finally
        {
            File.Delete(json);
        }
    }

    /// <summary>How to start this program again: its app host, or <c>dotnet ringactors.dll</c> when run through dotnet.</summary>
    private static ProcessStartInfo SelfStartInfo()
    {
        var host = Environment.ProcessPath ?? "dotnet";
        var info = new ProcessStartInfo(host) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            info.ArgumentList.Add(typeof(KernelBenchCommand).Assembly.Location);
        }

        return info;
    }

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null)
            {
                return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
            }
        }
        catch (IOException)
        {
            // not Linux: fall through
        }
        catch (UnauthorizedAccessException)
        {
            // not readable: fall through
        }

        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static int[] ParseList(string text, string option)
    {
        var values = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, CultureInfo.InvariantCulture, out var value) || value <= 0)
            {
                throw new ArgumentException($"{option} takes positive whole numbers separated by commas, got '{text}'", option);
            }

            values.Add(value);
        }

        return values.Count > 0 ? [.. values] : throw new ArgumentException($"{option} is empty", option);
    }
}
