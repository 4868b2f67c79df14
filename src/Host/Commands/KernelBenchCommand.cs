using System.ComponentModel;
using System.Diagnostics;
using RingActors.Host.Benchmarks;
using RingActors.Host.Reporting;
using RingActors.Math;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RingActors.Host.Commands;

/// <summary>
/// <c>ringactors bench kernels</c>: GFLOP/s of the blockwise kernel (one head, counted as 4·N²·d as if non-causal, as
/// ANCHORS.md §5 counts), as a share of the FMA peak measured in the same run, and next to numpy when it is installed.
/// </summary>
public sealed class KernelBenchCommand(IAnsiConsole console) : Command<KernelBenchCommand.Settings>
{
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
        [Description("Timed runs per cell; the best is reported.")]
        [DefaultValue(3)]
        public int Repetitions { get; init; } = 3;

        [CommandOption("--no-numpy")]
        [Description("Skip the numpy baseline even when numpy is installed.")]
        public bool NoNumpy { get; init; }

        public override Spectre.Console.ValidationResult Validate() =>
            Repetitions <= 0 ? Spectre.Console.ValidationResult.Error($"--repetitions must be ≥ 1, got {Repetitions}") : base.Validate();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var sizes = ParseList(settings.Seq, "--seq");
        var dims = ParseList(settings.Dims, "--dims");
        int[] threadCounts = Environment.ProcessorCount >= 2 ? [1, 2] : [1];
        var peaks = threadCounts.ToDictionary(t => t, t => FmaPeak.Measure(t, TimeSpan.FromSeconds(1)));
        var python = settings.NoNumpy ? null : NumpyBaseline.FindPython();

        var table = new Table().Border(TableBorder.Rounded)
            .Title("blockwise kernel, one head, fp32; GFLOP/s counted as 4·N²·d")
            .Caption(string.Join("; ", peaks.Select(p => $"FMA peak measured now: {p.Value / 1e9:F0} GFLOP/s on {p.Key} thread(s)"))
                + (python is null ? "; numpy not installed: no numpy column" : "; numpy with OPENBLAS_CORETYPE unset, best of runs"));
        table.AddColumns("N", "d", "threads", "non-causal GFLOP/s", "% of FMA peak", "causal GFLOP/s", "causal speed-up", "numpy GFLOP/s", "kernel / numpy");
        foreach (var n in sizes)
        {
            foreach (var d in dims)
            {
                foreach (var threads in threadCounts)
                {
                    var flops = 4.0 * n * (double)n * d;
                    var full = flops / BestSeconds(n, d, causal: false, threads, settings.Repetitions);
                    var causal = flops / BestSeconds(n, d, causal: true, threads, settings.Repetitions);
                    var numpy = python is null ? null : NumpyBaseline.Seconds(python, n, d, threads, settings.Repetitions);
                    var numpyRate = numpy is { } s ? flops / s : double.NaN;
                    table.AddRow(
                        n.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        d.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        threads.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        Units.Fixed(full / 1e9, 1),
                        Units.Percent(full / peaks[threads]),
                        Units.Fixed(causal / 1e9, 1),
                        Units.Ratio(causal / full),
                        double.IsNaN(numpyRate) ? "–" : Units.Fixed(numpyRate / 1e9, 1),
                        Units.Ratio(full / numpyRate));
                }
            }
        }

        console.Write(table);
        return 0;
    }

    private static double BestSeconds(int n, int d, bool causal, int threads, int repetitions)
    {
        var input = AttentionInput.Random(new AttentionShape(1, 1, 1, n, d), seed: n + d);
        var options = new AttentionOptions(Causal: causal, Threads: threads);
        var positions = Enumerable.Range(0, n).ToArray();
        var queries = new QueryChunk(input.Q, positions);
        var block = new KeyValueBlock(input.K, input.V, positions);
        var heads = AttentionHeads.Of(input.Shape);
        // The result is allocated once and reset outside the timed region, as a ring device reuses its partial.
        var result = new PartialAttention(1, 1, n, d);
        BlockwiseAttention.Accumulate(queries, block, heads, options, result); // warm-up: tiered JIT and pooled buffers
        var best = double.MaxValue;
        for (var r = 0; r < repetitions; r++)
        {
            result.Reset();
            var watch = Stopwatch.StartNew();
            BlockwiseAttention.Accumulate(queries, block, heads, options, result);
            best = System.Math.Min(best, watch.Elapsed.TotalSeconds);
        }

        return best;
    }

    private static int[] ParseList(string text, string option)
    {
        var values = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, System.Globalization.CultureInfo.InvariantCulture, out var value) || value <= 0)
            {
                throw new ArgumentException($"{option} takes positive whole numbers separated by commas, got '{text}'", option);
            }

            values.Add(value);
        }

        return values.Count > 0 ? [.. values] : throw new ArgumentException($"{option} is empty", option);
    }
}
