using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using RingActors.Math.Kernels;

namespace RingActors.Host.Benchmarks;

/// <summary>
/// Measures the machine's fused-multiply-add peak with independent vector chains, so kernel figures are printed as a
/// share of a peak measured in the same run rather than of a number copied from a datasheet.
/// </summary>
public static class FmaPeak
{
    private const int Iterations = 1 << 18;
    private const int ChainFlops = 12 * 2; // 12 independent chains, 2 FLOPs per lane per FMA

    /// <summary>
    /// FLOP/s of <paramref name="threads"/> dedicated threads running FMA chains of the process's vector width at the
    /// same time: the best of several trials within <paramref name="duration"/>, each timed from one start signal to
    /// the last thread's finish. Rates measured per thread and summed (the former probe) undercount on a shared or
    /// virtual machine, where one thread can be descheduled while the other runs: the two-thread peak came out below
    /// what OpenBLAS sgemm reached on two threads.
    /// </summary>
    public static double Measure(int threads, TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
        var best = 0.0;
        var watch = Stopwatch.StartNew();
        RunTrial(1, 1); // JIT and thread start-up outside the timed trials
        do
        {
            best = System.Math.Max(best, Trial(threads));
        }
        while (watch.Elapsed < duration);
        return best;
    }

    /// <summary>
    /// FLOP/s of one trial (tens of milliseconds) on <paramref name="threads"/> threads: what <c>bench kernels</c> runs
    /// between a cell's kernel runs, so the cell's share of the peak compares two rates measured under the same load.
    /// </summary>
    public static double Trial(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
        var lanes = KernelIsa.Selected == VectorIsa.Vector512 ? Vector512<float>.Count : Vector256<float>.Count;
        const int Batches = 16; // ≈ 2·10⁸ FMAs per thread per trial: tens of milliseconds
        return (double)threads * Batches * Iterations * ChainFlops * lanes / RunTrial(threads, Batches);
    }

    private static double RunTrial(int threads, int batches)
    {
        using var start = new ManualResetEventSlim(false);
        using var ready = new CountdownEvent(threads);
        var workers = new Thread[threads];
        var sinks = new float[threads];
        for (var t = 0; t < threads; t++)
        {
            var index = t;
            workers[t] = new Thread(() =>
            {
                ready.Signal();
                start.Wait();
                var sink = 0f;
                for (var b = 0; b < batches; b++)
                {
                    sink += KernelIsa.Selected == VectorIsa.Vector512 ? Chains512(Iterations) : Chains256(Iterations);
                }

                sinks[index] = sink;
            })
            { IsBackground = true, Priority = ThreadPriority.Highest };
            workers[t].Start();
        }

        ready.Wait();
        var watch = Stopwatch.StartNew();
        start.Set();
        foreach (var worker in workers)
        {
            worker.Join();
        }

        var seconds = watch.Elapsed.TotalSeconds;
        GC.KeepAlive(sinks);
        return seconds;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chains512(int iterations)
    {
        var m = Vector512.Create(0.999999f);
        var a = Vector512.Create(1e-7f);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (var i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, m, a);
            c1 = Vector512.FusedMultiplyAdd(c1, m, a);
            c2 = Vector512.FusedMultiplyAdd(c2, m, a);
            c3 = Vector512.FusedMultiplyAdd(c3, m, a);
            c4 = Vector512.FusedMultiplyAdd(c4, m, a);
            c5 = Vector512.FusedMultiplyAdd(c5, m, a);
            c6 = Vector512.FusedMultiplyAdd(c6, m, a);
            c7 = Vector512.FusedMultiplyAdd(c7, m, a);
            c8 = Vector512.FusedMultiplyAdd(c8, m, a);
            c9 = Vector512.FusedMultiplyAdd(c9, m, a);
            c10 = Vector512.FusedMultiplyAdd(c10, m, a);
            c11 = Vector512.FusedMultiplyAdd(c11, m, a);
        }

        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chains256(int iterations)
    {
        var m = Vector256.Create(0.999999f);
        var a = Vector256.Create(1e-7f);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (var i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, m, a);
            c1 = Vector256.FusedMultiplyAdd(c1, m, a);
            c2 = Vector256.FusedMultiplyAdd(c2, m, a);
            c3 = Vector256.FusedMultiplyAdd(c3, m, a);
            c4 = Vector256.FusedMultiplyAdd(c4, m, a);
            c5 = Vector256.FusedMultiplyAdd(c5, m, a);
            c6 = Vector256.FusedMultiplyAdd(c6, m, a);
            c7 = Vector256.FusedMultiplyAdd(c7, m, a);
            c8 = Vector256.FusedMultiplyAdd(c8, m, a);
            c9 = Vector256.FusedMultiplyAdd(c9, m, a);
            c10 = Vector256.FusedMultiplyAdd(c10, m, a);
            c11 = Vector256.FusedMultiplyAdd(c11, m, a);
        }

        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }
}
