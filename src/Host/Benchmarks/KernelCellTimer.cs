using System.Diagnostics;
using RingActors.Math;

namespace RingActors.Host.Benchmarks;

/// <summary>The best times of one <c>bench kernels</c> cell, and the best FMA probe trial run between them.</summary>
public sealed record KernelCellTimes(double ForwardSeconds, double CausalSeconds, double BackwardSeconds, double PeakFlops);

/// <summary>
/// Times one cell's runs in turns: per repetition the non-causal forward, the causal forward, the backward and one FMA
/// probe trial, the best of each kept. Timed one kind after the other, a load that came and went between them (a shared
/// or virtual machine's neighbours: one kernel thread here ran at 43–77 GFLOP/s from one repetition to the next) made
/// the causal speed-up and the share of the peak compare a quiet moment with a busy one.
/// </summary>
public static class KernelCellTimer
{
    public static KernelCellTimes Measure(int n, int d, int threads, int repetitions)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(repetitions);
        var shape = new AttentionShape(1, 1, 1, n, d);
        var input = AttentionInput.Random(shape, seed: n + d);
        var positions = Enumerable.Range(0, n).ToArray();
        var heads = AttentionHeads.Of(shape);
        var queries = new QueryChunk(input.Q, positions);
        var block = new KeyValueBlock(input.K, input.V, positions);
        var full = new AttentionOptions(Threads: threads);
        var causal = full with { Causal = true };

        // The result and the gradient accumulators are allocated once and reset outside the timed region, as a ring
        // device reuses its own. The backward's forward and D are computed once, untimed: a device holds them from its forward.
        var result = new PartialAttention(1, 1, n, d);
        var (forward, _) = BlockwiseAttention.Compute(input, full);
        var rows = BackwardRows.Create(queries, AttentionInput.Random(shape, seed: n + d + 1).Q, forward);
        var queryGradient = new float[shape.QueryLength];
        var blockGradients = KeyValueGradients.Zero(heads, n);

        double Forward(AttentionOptions options)
        {
            result.Reset();
            var watch = Stopwatch.StartNew();
            BlockwiseAttention.Accumulate(queries, block, heads, options, result);
            return watch.Elapsed.TotalSeconds;
        }

        double Backward()
        {
            Array.Clear(queryGradient);
            Array.Clear(blockGradients.Keys);
            Array.Clear(blockGradients.Values);
            var watch = Stopwatch.StartNew();
            BlockwiseBackward.Accumulate(rows, block, heads, full, queryGradient, blockGradients);
            return watch.Elapsed.TotalSeconds;
        }

        // Warm-up: tiered JIT and pooled buffers.
        Forward(full);
        Forward(causal);
        Backward();
        double bestForward = double.MaxValue, bestCausal = double.MaxValue, bestBackward = double.MaxValue, bestPeak = 0;
        for (var r = 0; r < repetitions; r++)
        {
            bestForward = System.Math.Min(bestForward, Forward(full));
            bestCausal = System.Math.Min(bestCausal, Forward(causal));
            bestBackward = System.Math.Min(bestBackward, Backward());
            bestPeak = System.Math.Max(bestPeak, FmaPeak.Trial(threads));
        }

        return new KernelCellTimes(bestForward, bestCausal, bestBackward, bestPeak);
    }
}
