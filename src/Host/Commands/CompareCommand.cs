using System.ComponentModel;
using System.Diagnostics;
using RingActors.Host.Cli;
using RingActors.Host.Reporting;
using RingActors.Math;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RingActors.Host.Commands;

/// <summary><c>ringactors compare</c>: dense, blockwise and sparse attention on the same seeded inputs, in one table.</summary>
public sealed class CompareCommand(IAnsiConsole console) : Command<CompareCommand.Settings>
{
    /// <summary>Above this many multiply-adds the float64 oracle takes too long and the dense float32 result is the reference.</summary>
    private const double OracleBudget = 6e8;

    public sealed class Settings : ShapeSettings
    {
        [CommandOption("--block <TOKENS>")]
        [Description("Key block size of the blockwise method (keys are cut into blocks of this many tokens and merged).")]
        [DefaultValue(512)]
        public int Block { get; init; } = 512;

        [CommandOption("--pattern <SPEC>")]
        [Description("A sparse pattern to compare, repeatable: NAME[[:ARGS]], e.g. window:256, bigbird:64:2:3, topk:32, union:window:64+global:0 (README lists them all).")]
        public string[] Patterns { get; init; } = [];

        public override Spectre.Console.ValidationResult Validate() =>
            Block <= 0 ? Spectre.Console.ValidationResult.Error($"--block must be ≥ 1 token, got {Block}") : base.Validate();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var shape = settings.Shape();
        var input = AttentionInput.Random(shape, settings.Seed);
        var threads = settings.ThreadCount;
        var baseOptions = new AttentionOptions(Causal: settings.IsCausal, Threads: threads);
        var patterns = settings.Patterns.Select(spec => CommandPatterns.Parse(spec, input, settings.IsCausal, settings.Seed)).ToList();

        var rows = new List<CompareRow>();
        var dense = Measure(() => DenseAttention.Compute(input, baseOptions));
        var reference = OracleCost(shape) <= OracleBudget ? ReferenceAttention.Compute(input, baseOptions).Output : null;
        rows.Add(new CompareRow(
            "dense (fp32, N×N scores)",
            reference is null ? null : ErrorMetrics.Compare(dense.Value.Output, reference),
            Density(shape, AttentionCosts.DenseFlops(shape) / (4.0 * shape.HeadDim)),
            AttentionCosts.DenseFlops(shape),
            AttentionCosts.DenseBytesMoved(shape),
            DenseAttention.PeakWorkingBytes(shape),
            dense.Seconds));

        var blockwise = Measure(() => BlockwiseAttention.ComputeInBlocks(input, baseOptions, settings.Block));
        rows.Add(MethodRow($"blockwise (key blocks of {settings.Block})", shape, settings, blockwise.Value.Result, blockwise.Value.Work, blockwise.Seconds, dense.Value));

        foreach (var pattern in patterns)
        {
            var sparse = Measure(() => SparseAttention.Compute(input, baseOptions with { Pattern = pattern }));
            var result = sparse.Value;
            rows.Add(new CompareRow(
                $"sparse {pattern.Name}",
                ErrorMetrics.Compare(result.Result.Output, dense.Value.Output),
                Density(shape, result.PairsComputed),
                result.Flops,
                AttentionCosts.BlockwiseBytesMoved(shape, result.Work),
                result.PeakWorkingBytes,
                sparse.Seconds,
                result.Density));
        }

        console.Write(Render(shape, settings, threads, reference is not null, rows));
        return 0;
    }

    private static CompareRow MethodRow(string name, AttentionShape shape, Settings settings, PartialAttention result, BlockWork work, double seconds, PartialAttention dense) =>
        new(
            name,
            ErrorMetrics.Compare(result.Output, dense.Output),
            Density(shape, work.PairsComputed),
            work.Flops,
            AttentionCosts.BlockwiseBytesMoved(shape, work),
            AttentionCosts.BlockwisePeakBytes(shape, settings.Block, settings.ThreadCount),
            seconds);

    /// <summary>Share of the pairs computed among all N² pairs of every (batch, head).</summary>
    private static double Density(AttentionShape shape, double pairs) => pairs / ((double)shape.SeqLen * shape.SeqLen * shape.Batch * shape.Heads);

    private static double OracleCost(AttentionShape shape) => 2.0 * shape.Batch * shape.Heads * shape.SeqLen * (double)shape.SeqLen * shape.HeadDim;

    private static (T Value, double Seconds) Measure<T>(Func<T> action)
    {
        var watch = Stopwatch.StartNew();
        var value = action();
        return (value, watch.Elapsed.TotalSeconds);
    }

    private static Table Render(AttentionShape shape, Settings settings, int threads, bool oracle, List<CompareRow> rows)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"mask {MaskWords.Name(settings.IsCausal)}: B={shape.Batch} H={shape.Heads} Hkv={shape.KvHeads} N={shape.SeqLen} d={shape.HeadDim}, seed {settings.Seed}, {threads} thread(s)")
            .Caption(oracle
                ? "errors: dense against the float64 oracle, every other method against dense fp32; computed density = pairs the kernel computed (whole tiles) / N²; pattern density = allowed pairs / N² (/ causal pairs when causal)"
                : "errors against dense fp32 (N too large for the float64 oracle); computed density = pairs the kernel computed (whole tiles) / N²; pattern density = allowed pairs / N² (/ causal pairs when causal)");
        table.AddColumns("method", "max abs err", "rel err", "cosine", "pattern density", "computed density", "FLOPs", "GFLOP/s", "bytes moved", "peak memory", "time");
        foreach (var row in rows)
        {
            table.AddRow(
                Markup.Escape(row.Method),
                row.Error is { } e ? Units.Error(e.MaxAbsError) : "reference",
                row.Error is { } r ? Units.Error(r.RelativeError) : "–",
                row.Error is { } c ? Units.Fixed(c.CosineSimilarity, 6) : "–",
                row.PatternDensity is { } p ? Units.Percent(p) : "–",
                Units.Percent(row.Density),
                Units.Count(row.Flops),
                Units.Fixed(row.Flops / row.Seconds / 1e9, 1),
                Units.Bytes(row.BytesMoved),
                Units.Bytes(row.PeakBytes),
                Units.Seconds(row.Seconds));
        }

        return table;
    }

    /// <param name="PatternDensity">For sparse rows: pairs the pattern allows over all pairs (or causal pairs when causal).</param>
    private sealed record CompareRow(string Method, ErrorMetrics? Error, double Density, double Flops, double BytesMoved, long PeakBytes, double Seconds, double? PatternDensity = null);
}
