using System.Diagnostics;
using System.Globalization;

namespace RingActors.Host.Benchmarks;

/// <summary>
/// numpy's dense attention (Q·Kᵀ, softmax, P·V) timed in a python3 child process on the same sizes, when numpy is installed.
/// OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed for that process only: inherited from this machine's environment
/// they force OpenBLAS's Haswell kernels and halve its speed (ANCHORS.md §5).
/// </summary>
public static class NumpyBaseline
{
    private const string Script = """
        import sys, time, numpy as np
        n, d, reps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
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
        print(best)
        """;

    /// <summary>The python that has numpy, or null.</summary>
    public static string? FindPython()
    {
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

    /// <summary>Best-of-<paramref name="repetitions"/> seconds of numpy's dense attention, or null if it failed.</summary>
    public static double? Seconds(string python, int n, int d, int threads, int repetitions)
    {
        using var process = Start(python, ["-c", Script, n.ToString(CultureInfo.InvariantCulture), d.ToString(CultureInfo.InvariantCulture), repetitions.ToString(CultureInfo.InvariantCulture)], threads);
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 && double.TryParse(output.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) ? seconds : null;
    }

    private static Process Start(string python, string[] arguments, int threads)
    {
        var info = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Remove("OPENBLAS_CORETYPE");
        info.Environment.Remove("OPENBLAS_L2_SIZE");
        var count = threads.ToString(CultureInfo.InvariantCulture);
        info.Environment["OPENBLAS_NUM_THREADS"] = count;
        info.Environment["OMP_NUM_THREADS"] = count;
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {python}");
    }
}
