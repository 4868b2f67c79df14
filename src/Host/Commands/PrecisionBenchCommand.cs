using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using RingActors.Actors;
using RingActors.Host.Cli;
using RingActors.Host.Reporting;
using RingActors.Math;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RingActors.Host.Commands;

/// <summary>
/// <c>ringactors bench precision</c>: how the error of the ring's output and gradients against the float64 oracle grows with
/// the number of devices P, for fp32 and bf16 partials. Every cell is a real ring job (<see cref="RingRunner"/>, the job
/// <c>run --backward --partial-dtype …</c> runs) on one fixed problem; the oracle (<see cref="ReferenceAttention"/>,
/// <see cref="ReferenceBackward"/>) is computed once.
/// </summary>
public sealed class PrecisionBenchCommand(IAnsiConsole console) : AsyncCommand<PrecisionBenchCommand.Settings>
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public sealed class Settings : CommandSettings
    {
        [CommandOption("--seq <N>")]
        [Description("Sequence length; a multiple of 2·P for every P (zigzag), 1024 by default.")]
        [DefaultValue(1024)]
        public int Seq { get; init; } = 1024;

        [CommandOption("--heads <H>")]
        [DefaultValue(4)]
        public int Heads { get; init; } = 4;

        [CommandOption("--kv-heads <HKV>")]
        [DefaultValue(2)]
        public int KvHeads { get; init; } = 2;

        [CommandOption("--dim <D>")]
        [DefaultValue(32)]
        public int Dim { get; init; } = 32;

        [CommandOption("--devices <P,P,…>")]
        [Description("Ring sizes to measure.")]
        [DefaultValue("2,4,8,16,32")]
        public string Devices { get; init; } = "2,4,8,16,32";

        [CommandOption("--layout <LAYOUT>")]
        [Description("contiguous, striped or zigzag.")]
        [DefaultValue("zigzag")]
        public string Layout { get; init; } = "zigzag";

        [CommandOption("--causal")]
        [Description("Causal mask (the default).")]
        public bool Causal { get; init; }

        [CommandOption("--no-causal")]
        [Description("No causal mask.")]
        public bool NoCausal { get; init; }

        public bool IsCausal => !NoCausal;

        [CommandOption("--seed <S>")]
        [Description("Seed of the inputs and of dO.")]
        [DefaultValue(42)]
        public int Seed { get; init; } = 42;

        [CommandOption("--json <FILE>")]
        [Description("Write every row (P, and per precision the output's and each gradient's max abs and relative error) as JSON.")]
        public string? Json { get; init; }

        public int[] RingSizes() => Devices.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : -1).ToArray();

        public AttentionShape Shape() => new AttentionShape(1, Heads, KvHeads, Seq, Dim).Validate();

        public override Spectre.Console.ValidationResult Validate()
        {
            var sizes = RingSizes();
            var error = MaskWords.Conflict(Causal, NoCausal)
                ?? (sizes.Length == 0 || sizes.Any(p => p < 1) ? $"--devices must be a list of ring sizes ≥ 1 such as 2,4,8, got '{Devices}'" : null)
                ?? sizes.Select(p => OptionLimits.Whole("--devices", p, 1, OptionLimits.MaxDevices)).FirstOrDefault(e => e is not null)
                ?? sizes.Where(p => p > Seq).Select(p => $"--devices {p} exceeds --seq {Seq}: a device needs at least one token").FirstOrDefault();
            if (error is null)
            {
                try
                {
                    Shape();
                    SequenceLayout.ParseKind(Layout);
                }
                catch (ArgumentException shape)
                {
                    error = UserError.WithoutParameter(shape);
                }
            }

            return error is null ? base.Validate() : Spectre.Console.ValidationResult.Error(error);
        }
    }

    /// <summary>One cell: a ring of P devices in one precision, its output's and gradients' errors against the oracle.</summary>
    public sealed record Cell(ErrorMetrics Output, ErrorMetrics Queries, ErrorMetrics Keys, ErrorMetrics Values, double RingSeconds);

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var shape = settings.Shape();
        var input = AttentionInput.Random(shape, settings.Seed);
        var outputGradient = AttentionInput.RandomOutputGradient(shape, settings.Seed);
        var options = new AttentionOptions(settings.IsCausal);
        console.MarkupLine($"mask {MaskWords.Name(settings.IsCausal)}: bench precision, B=1 H={shape.Heads} Hkv={shape.KvHeads} N={shape.SeqLen} d={shape.HeadDim}, {Markup.Escape(settings.Layout)}, P = {Markup.Escape(settings.Devices)}; float64 oracle …");
        var (output, _) = ReferenceAttention.Compute(input, options);
        var oracle = ReferenceBackward.Compute(input, outputGradient, options);

        var system = LocalActorSystem.Create("ringprecision");
        var rows = new List<(int Devices, Cell Fp32, Cell Bf16)>();
        try
        {
            // One untimed job first, so the first cell's ring time is not the JIT's.
            await RingRunner.RunAsync(system, input, RunCommand.Job(input, settings.RingSizes()[0], settings.Layout, settings.IsCausal, null, settings.Seed).Validate(shape), null, cancellationToken);
            foreach (var devices in settings.RingSizes())
            {
                var cells = new Dictionary<PartialPrecision, Cell>();
                foreach (var precision in new[] { PartialPrecision.Fp32, PartialPrecision.Bf16 })
                {
                    var job = RunCommand.Job(input, devices, settings.Layout, settings.IsCausal, null, settings.Seed) with
                    {
                        PartialPrecision = precision,
                        Backward = new BackwardPass(outputGradient),
                    };
                    var ring = await RingRunner.RunAsync(system, input, job.Validate(shape), null, cancellationToken);
                    var gradients = GradientReport.RequireGradients(job, ring)!;
                    cells[precision] = new Cell(
                        ErrorMetrics.Compare(ring.Output, output),
                        ErrorMetrics.Compare(gradients.Queries, oracle.Queries),
                        ErrorMetrics.Compare(gradients.Keys, oracle.Keys),
                        ErrorMetrics.Compare(gradients.Values, oracle.Values),
                        ring.RingTime.TotalSeconds);
                }

                rows.Add((devices, cells[PartialPrecision.Fp32], cells[PartialPrecision.Bf16]));
            }
        }
        finally
        {
            await system.Terminate();
        }

        console.Write(Table(rows));
        if (settings.Json is { } json)
        {
            File.WriteAllText(json, JsonSerializer.Serialize(Document(settings, shape, rows), JsonOptions));
            console.MarkupLine($"precision bench written to [bold]{Markup.Escape(json)}[/]");
        }

        return 0;
    }

    private static Table Table(List<(int Devices, Cell Fp32, Cell Bf16)> rows)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title("relative (Frobenius) error against the float64 oracle: fp32 | bf16 partials | bf16 / fp32")
            .Caption($"every cell one ring job with the backward pass (RingRunner, as run --backward --partial-dtype); merges in fp32; verdict tolerances: fp32 output {Verdicts.Output(PartialPrecision.Fp32):0e+0}, gradients {Verdicts.Fp32Gradient:0e+0}; bf16 output {Verdicts.Bf16Output:0e+0}, gradients {Verdicts.Bf16Gradient:0e+0}");
        table.AddColumns("P", "output", "dQ", "dK", "dV", "max abs dQ fp32 | bf16", "ring time fp32 | bf16");
        foreach (var (devices, fp32, bf16) in rows)
        {
            table.AddRow(
                devices.ToString(CultureInfo.InvariantCulture),
                Side(fp32.Output, bf16.Output),
                Side(fp32.Queries, bf16.Queries),
                Side(fp32.Keys, bf16.Keys),
                Side(fp32.Values, bf16.Values),
                $"{Units.Error(fp32.Queries.MaxAbsError)} | {Units.Error(bf16.Queries.MaxAbsError)}",
                $"{Units.Seconds(fp32.RingSeconds)} | {Units.Seconds(bf16.RingSeconds)}");
        }

        return table;
    }

    private static string Side(ErrorMetrics fp32, ErrorMetrics bf16) =>
        $"{Units.Error(fp32.RelativeError)} | {Units.Error(bf16.RelativeError)} | {Units.Ratio(Ratio(fp32, bf16))}";

    private static double Ratio(ErrorMetrics fp32, ErrorMetrics bf16) => fp32.RelativeError > 0 ? bf16.RelativeError / fp32.RelativeError : double.NaN;

    private static object Document(Settings settings, AttentionShape shape, List<(int Devices, Cell Fp32, Cell Bf16)> rows) => new
    {
        mask = MaskWords.Name(settings.IsCausal),
        layout = settings.Layout,
        shape = new { batch = shape.Batch, heads = shape.Heads, kvHeads = shape.KvHeads, seqLen = shape.SeqLen, headDim = shape.HeadDim },
        seed = settings.Seed,
        reference = "float64 dense oracle (ReferenceAttention, ReferenceBackward)",
        rows = rows.Select(r => new
        {
            devices = r.Devices,
            fp32 = Cells(r.Fp32),
            bf16 = Cells(r.Bf16),
            ratio = new
            {
                output = Ratio(r.Fp32.Output, r.Bf16.Output),
                dq = Ratio(r.Fp32.Queries, r.Bf16.Queries),
                dk = Ratio(r.Fp32.Keys, r.Bf16.Keys),
                dv = Ratio(r.Fp32.Values, r.Bf16.Values),
            },
        }),
    };

    private static object Cells(Cell c) => new
    {
        output = Error(c.Output),
        dq = Error(c.Queries),
        dk = Error(c.Keys),
        dv = Error(c.Values),
        ringSeconds = c.RingSeconds,
    };

    private static object Error(ErrorMetrics e) => new { maxAbsError = e.MaxAbsError, relativeError = e.RelativeError };
}
