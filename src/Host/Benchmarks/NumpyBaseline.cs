using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace RingActors.Host.Benchmarks;

/// <summary>What numpy says about itself: its version, the BLAS it actually loaded, and that BLAS's thread count.</summary>
/// <param name="Library">The BLAS as reported (e.g. <c>openblas 0.3.21</c>), or the file loaded when nothing better is known.</param>
/// <param name="Path">The BLAS shared library the python process mapped, after symbolic links.</param>
/// <param name="Threads">The BLAS's thread count as it reports it, or null when it cannot say.</param>
/// <param name="Source">Who reported it: <c>threadpoolctl</c>, <c>openblas</c> (its own C API) or <c>loaded library</c>.</param>
public sealed record NumpyInfo(string Version, string Library, string Path, int? Threads, string Source)
{
    /// <summary>The OpenBLAS core (kernel family) numpy's BLAS runs, e.g. <c>Prescott</c>, or null when it is no OpenBLAS or did not say.</summary>
    public string? BlasCore => OpenBlasCore.Parse(Library);

    /// <summary>Whether the BLAS is an OpenBLAS, the one library OPENBLAS_CORETYPE steers.</summary>
    public bool IsOpenBlas => Library.Contains("openblas", StringComparison.OrdinalIgnoreCase) || Path.Contains("openblas", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Whether numpy runs an optimised BLAS (OpenBLAS, MKL, BLIS). The reference BLAS (Debian's <c>libblas3</c>, what
    /// <c>python3-numpy</c> alone installs) is 10–30× slower and no baseline for a kernel (ANCHORS.md §5b).
    /// </summary>
    public bool IsOptimised => OptimisedNames.Any(name => Library.Contains(name, StringComparison.OrdinalIgnoreCase) || Path.Contains(name, StringComparison.OrdinalIgnoreCase));

    public string Describe() =>
        $"numpy {Version}, BLAS {Library} ({Path}), {(Threads is { } t ? t.ToString(CultureInfo.InvariantCulture) : "?")} thread(s), as {Source} reports";

    private static readonly string[] OptimisedNames = ["openblas", "mkl", "blis", "accelerate"];
}

/// <summary>
/// numpy's dense attention (Q·Kᵀ, softmax, P·V) and sgemm timed in a python3 child process on the same sizes, when numpy
/// is installed. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed for that process only: inherited from this machine's
/// environment they force OpenBLAS's Haswell kernels and halve its speed (ANCHORS.md §5). A caller sets OPENBLAS_CORETYPE
/// itself (<c>coreType</c>) where OpenBLAS's own choice is known to be narrower than the machine (<see cref="OpenBlasCore"/>).
/// </summary>
public static class NumpyBaseline
{
    public const string InstallHint = "apt-get install python3-numpy libopenblas0-pthread";

    // One script, three modes; every mode prints one JSON object. The BLAS is found as it is loaded, not as numpy was
    // built: Debian's numpy is built against libblas.so.3 and show_config() says "blas" whichever library the
    // alternatives system puts behind that name. An OpenBLAS's library ends in "core <Name>" from either source
    // (threadpoolctl calls it "architecture"), the kernels it runs, which OpenBlasCore.Parse reads.
    private const string Script = """
        import sys, json, time, os, ctypes, numpy as np
        mode = sys.argv[1]
        def info():
            out = {"version": np.__version__}
            try:
                from threadpoolctl import threadpool_info
                pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
                if pools:
                    p = pools[0]
                    library = (p.get("internal_api") or "?") + " " + (p.get("version") or "")
                    if p.get("architecture"):
                        library += " core " + p["architecture"]
                    out.update(library=library, path=os.path.realpath(p.get("filepath") or ""), threads=p.get("num_threads"), source="threadpoolctl")
                    return out
            except Exception:
                pass
            paths = []
            for line in open("/proc/self/maps"):
                name = line.split()[-1]
                if "blas" in os.path.basename(name).lower() and name not in paths:
                    paths.append(name)
            real = [os.path.realpath(p) for p in paths]
            openblas = [p for p in real if "openblas" in os.path.basename(p).lower()]
            if openblas:
                lib = ctypes.CDLL(openblas[0])
                lib.openblas_get_config.restype = ctypes.c_char_p
                lib.openblas_get_corename.restype = ctypes.c_char_p
                config = lib.openblas_get_config().decode()
                out.update(library=config + " core " + lib.openblas_get_corename().decode(), path=openblas[0], threads=lib.openblas_get_num_threads(), source="openblas")
            else:
                out.update(library=os.path.basename(real[0]) if real else "unknown", path=real[0] if real else "", threads=None, source="loaded library")
            return out
        if mode == "info":
            print(json.dumps(info()))
        elif mode == "attention":
            n, d, reps = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
            rng = np.random.default_rng(0)
            q, k, v = (rng.standard_normal((n, d), dtype=np.float32) for _ in range(3))
            def attn():
                s = (q @ k.T) * np.float32(1.0 / np.sqrt(d))
                s -= s.max(axis=1, keepdims=True)
                np.exp(s, out=s)
                s /= s.sum(axis=1, keepdims=True)
                return s @ v
            attn()
            best = 1e30
            for _ in range(reps):
                t = time.perf_counter(); attn(); best = min(best, time.perf_counter() - t)
            print(json.dumps({"seconds": best}))
        elif mode == "sgemm":
            n, reps = int(sys.argv[2]), int(sys.argv[3])
            rng = np.random.default_rng(0)
            a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
            a @ b
            best = 1e30
            for _ in range(reps):
                t = time.perf_counter(); a @ b; best = min(best, time.perf_counter() - t)
            print(json.dumps({"seconds": best}))
        """;

    /// <summary>The python that has numpy, or null.</summary>
    public static string? FindPython()
    {
        // A pyenv shim comes first on some PATHs and has no numpy; Debian's python3-numpy lives under /usr/bin/python3.
        foreach (var candidate in new[] { "python3", "/usr/bin/python3" })
        {
            try
            {
                using var process = Start(candidate, ["-c", "import numpy"], threads: 1);
                process.WaitForExit(30_000);
                if (process.HasExited && process.ExitCode == 0)
                {
                    return candidate;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // not installed under that name
            }
        }

        return null;
    }

    /// <summary>numpy's own account of its BLAS with <paramref name="threads"/> BLAS threads requested, or null if it failed.</summary>
    /// <remarks><paramref name="coreType"/> sets OPENBLAS_CORETYPE, to see which core OpenBLAS takes under it; null leaves it unset.</remarks>
    public static NumpyInfo? Describe(string python, int threads, string? coreType = null)
    {
        var json = RunScript(python, ["info"], threads, coreType);
        if (json is null)
        {
            return null;
        }

        var root = json.RootElement;
        int? reported = root.TryGetProperty("threads", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetInt32() : null;
        return new NumpyInfo(
            root.GetProperty("version").GetString() ?? "?",
            (root.GetProperty("library").GetString() ?? "unknown").Trim(),
            root.GetProperty("path").GetString() ?? "",
            reported,
            root.GetProperty("source").GetString() ?? "?");
    }

    /// <summary>Best-of-<paramref name="repetitions"/> seconds of numpy's dense attention, or null if it failed.</summary>
    /// <remarks><paramref name="coreType"/> sets OPENBLAS_CORETYPE; null leaves it unset.</remarks>
    public static double? AttentionSeconds(string python, int n, int d, int threads, int repetitions, string? coreType = null) =>
        Seconds(RunScript(python, ["attention", Text(n), Text(d), Text(repetitions)], threads, coreType));

    /// <summary>FLOP/s of numpy's float32 n×n·n×n product (2·n³ FLOPs) on <paramref name="threads"/> BLAS threads, or null.</summary>
    /// <remarks><paramref name="coreType"/> sets OPENBLAS_CORETYPE (e.g. <c>Haswell</c> for OpenBLAS's AVX2 kernels); null leaves it unset.</remarks>
    public static double? SgemmRate(string python, int n, int threads, int repetitions, string? coreType = null) =>
        Seconds(RunScript(python, ["sgemm", Text(n), Text(repetitions)], threads, coreType)) is { } seconds ? 2.0 * n * n * (double)n / seconds : null;

    private static double? Seconds(JsonDocument? json) =>
        json is not null && json.RootElement.TryGetProperty("seconds", out var s) ? s.GetDouble() : null;

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static JsonDocument? RunScript(string python, string[] arguments, int threads, string? coreType = null)
    {
        using var process = Start(python, ["-c", Script, .. arguments], threads, coreType);
        var output = process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            return null;
        }

        try
        {
            return JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static Process Start(string python, string[] arguments, int threads, string? coreType = null)
    {
        var info = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Remove("OPENBLAS_CORETYPE");
        info.Environment.Remove("OPENBLAS_L2_SIZE");
        if (coreType is not null)
        {
            info.Environment["OPENBLAS_CORETYPE"] = coreType;
        }
        var count = Text(threads);
        info.Environment["OPENBLAS_NUM_THREADS"] = count;
        info.Environment["OMP_NUM_THREADS"] = count;
        info.Environment["MKL_NUM_THREADS"] = count;
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {python}");
    }
}
