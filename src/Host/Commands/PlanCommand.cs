using System.ComponentModel;
using System.Globalization;
using RingActors.Host.Plots;
using RingActors.Host.Reporting;
using RingActors.Math.Modelling;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RingActors.Host.Commands;

/// <summary>
/// <c>ringactors plan</c>: predicts a Ring Attention pass on modelled hardware with the virtual-time model (no numerics):
/// time per step and in total, overlap, the minimal block size for overlap, memory per device next to dense, memory-efficient
/// and blockwise attention; optionally as JSON and as a Gantt chart. <c>plan --table</c> prints the paper's Table 2.
/// </summary>
public sealed class PlanCommand(IAnsiConsole console) : Command<PlanCommand.Settings>
{
    public const string DefaultProfile = "a100-nvlink";

    public sealed class Settings : CommandSettings
    {
        [CommandOption("--profile <NAME>")]
        [Description("Device profile: a100-nvlink (default), a100-infiniband, tpu-v3, tpu-v4, tpu-v5e, h100-nvlink, h100-infiniband, or local (measured now on this machine).")]
        public string? Profile { get; init; }

        [CommandOption("--profile-file <FILE>")]
        [Description("Read the profile from a JSON file or a HOCON .conf file (keys name, peakFlops, efficiency, memoryBytes, linkBandwidth, linkLatency, source).")]
        public string? ProfileFile { get; init; }

        [CommandOption("--flops <F>")]
        [Description("Peak FLOP/s of one device. With --bandwidth and --memory and no --profile: a custom profile; with a profile: overrides its value.")]
        public double? Flops { get; init; }

        [CommandOption("--bandwidth <B>")]
        [Description("Link bandwidth to the next device, bytes/s, one direction.")]
        public double? Bandwidth { get; init; }

        [CommandOption("--latency <SECONDS>")]
        [Description("Link latency in seconds (custom profile default 0).")]
        public double? Latency { get; init; }

        [CommandOption("--memory <BYTES>")]
        [Description("Device memory in bytes.")]
        public double? Memory { get; init; }

        [CommandOption("--efficiency <E>")]
        // Descriptions are Spectre markup: "]]" prints one bracket.
        [Description("Share of the peak FLOP/s the attention kernel achieves, in (0, 1]] (default 1).")]
        public double? Efficiency { get; init; }

        [CommandOption("--devices <P>")]
        [Description("Devices in the ring.")]
        [DefaultValue(8)]
        public int Devices { get; init; } = 8;

        [CommandOption("--seq <N>")]
        [Description("Sequence length in tokens.")]
        [DefaultValue(524288)]
        public int Seq { get; init; } = 524288;

        [CommandOption("--batch <B>")]
        [Description("Batch size.")]
        [DefaultValue(1)]
        public int Batch { get; init; } = 1;

        [CommandOption("--heads <H>")]
        [Description("Query heads.")]
        [DefaultValue(32)]
        public int Heads { get; init; } = 32;

        [CommandOption("--kv-heads <HKV>")]
        [Description("Key/value heads; heads must be a multiple of it (grouped-query attention).")]
        [DefaultValue(8)]
        public int KvHeads { get; init; } = 8;

        [CommandOption("--dim <D>")]
        [Description("Head dimension.")]
        [DefaultValue(128)]
        public int Dim { get; init; } = 128;

        [CommandOption("--dtype <TYPE>")]
        [Description("Element type on the devices: bf16, fp16 or fp32.")]
        [DefaultValue("bf16")]
        public string Dtype { get; init; } = "bf16";

        [CommandOption("--layout <LAYOUT>")]
        [Description("How tokens are spread over the ring: contiguous, striped or zigzag.")]
        [DefaultValue("zigzag")]
        public string Layout { get; init; } = "zigzag";

        [CommandOption("--causal")]
        [Description("Causal mask (the default).")]
        public bool Causal { get; init; }

        [CommandOption("--no-causal")]
        [Description("Full (bidirectional) attention instead of causal.")]
        public bool NoCausal { get; init; }

        [CommandOption("--json <FILE>")]
        [Description("Also write the plan as JSON to FILE.")]
        public string? Json { get; init; }

        [CommandOption("--timeline <FILE>")]
        [Description("Draw the predicted timeline as a Gantt chart to FILE.png or FILE.svg.")]
        public string? Timeline { get; init; }

        [CommandOption("--actors")]
        [Description("Also run the ring through the actor protocol with phantom tensors in virtual time (at most 256 devices) and draw that timeline.")]
        public bool Actors { get; init; }

        [CommandOption("--table")]
        [Description("Print the paper's Table 2 as RingActors computes it, next to the printed values, and exit.")]
        public bool Table { get; init; }

        public bool IsCausal => !NoCausal;

        public bool HasProfileFlags => Flops is not null || Bandwidth is not null || Latency is not null || Memory is not null || Efficiency is not null;

        public override ValidationResult Validate()
        {
            var error = RingActors.Host.Cli.MaskWords.Conflict(Causal, NoCausal)
                ?? Check(Profile is not null && ProfileFile is not null, "give either --profile or --profile-file, not both")
                ?? Rate("--flops", Flops)
                ?? Rate("--bandwidth", Bandwidth)
                ?? Rate("--memory", Memory)
                ?? Check(Memory is >= long.MaxValue, $"--memory is too large: {Show(Memory)} bytes")
                ?? Check(Latency is { } l && !(double.IsFinite(l) && l >= 0), $"--latency must be finite and ≥ 0 seconds, got {Show(Latency)}")
                ?? Check(Efficiency is { } e && !(double.IsFinite(e) && e > 0 && e <= 1), $"--efficiency must be in (0, 1], got {Show(Efficiency)}")
                ?? Check(Profile is null && ProfileFile is null && HasProfileFlags && (Flops is null || Bandwidth is null || Memory is null),
                    $"a custom profile needs --flops, --bandwidth and --memory (missing {string.Join(", ", Missing())}), or name a --profile to override")
                ?? Check(Timeline is not null && !IsPlotFile(Timeline), $"--timeline must name a .png or .svg file, got '{Timeline}'")

                // The planner keeps a P × P table of step times: bounded, it fits in memory and an int.
                ?? RingActors.Host.Cli.OptionLimits.Whole("--devices", Devices, 1, RingActors.Host.Cli.OptionLimits.MaxDevices);
            return error is null ? base.Validate() : ValidationResult.Error(error);
        }

        /// <summary>The plan request these settings describe, with <paramref name="profile"/>.</summary>
        public PlanRequest Request(DeviceProfile profile) =>
            new PlanRequest(profile, Devices, Seq, Heads, KvHeads, Dim, ElementTypes.Parse(Dtype), RingActors.Actors.SequenceLayout.ParseKind(Layout), IsCausal, Batch,
                RecordTimeline: Timeline is not null).Validate();

        private static bool IsPlotFile(string path) =>
            Path.GetExtension(path).ToUpperInvariant() is ".PNG" or ".SVG";

        private IEnumerable<string> Missing()
        {
            if (Flops is null)
            {
                yield return "--flops";
            }

            if (Bandwidth is null)
            {
                yield return "--bandwidth";
            }

            if (Memory is null)
            {
                yield return "--memory";
            }
        }

        private static string? Rate(string option, double? value) =>
            value is { } v && !(double.IsFinite(v) && v > 0) ? $"{option} must be finite and > 0, got {Show(value)}" : null;

        private static string? Check(bool failed, string message) => failed ? message : null;

        private static string Show(double? value) => value?.ToString("G6", CultureInfo.InvariantCulture) ?? "nothing";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Table)
        {
            PlanTables.WriteTable2(console);
            return 0;
        }

        // Parse the ring before measuring a local profile, so a typo fails at once.
        settings.Request(ProfileCatalog.Get(DefaultProfile));
        var profile = ResolveProfile(settings);
        var result = RingPlanner.Plan(settings.Request(profile));
        PlanTables.Write(console, result);
        if (settings.Actors)
        {
            var actors = PlanActors.Run(result.Request);
            console.MarkupLine(Markup.Escape(Invariant(
                $"actors (phantom tensors, virtual time): {actors.TotalSeconds:G6} s, overlap {actors.Overlap:P1}; simulator: {result.PredictedSeconds:G6} s, overlap {result.Overlap:P1} — {(actors.TotalSeconds == result.PredictedSeconds && actors.Overlap == result.Overlap ? "identical" : Invariant($"differ by {actors.TotalSeconds / result.PredictedSeconds - 1:P3}"))}")));
            result = result with { Timeline = actors };
        }

        if (settings.Json is { } json)
        {
            PlanReport.From(result).Write(json);
            console.MarkupLine($"JSON written to [bold]{Markup.Escape(json)}[/]");
        }

        if (settings.Timeline is { } timeline)
        {
            var request = result.Request;
            var title = string.Create(CultureInfo.InvariantCulture,
                $"{profile.Name}: {request.Devices} devices, N = {request.SeqLen:N0}, {request.Layout.ToString().ToLowerInvariant()}{(request.Causal ? ", causal" : string.Empty)}");
            TimelinePlot.Save(result.Timeline, timeline, title);
            var rows = request.Devices > TimelinePlot.MaxRows
                ? $" (first and last {TimelinePlot.MaxRows / 2} of {request.Devices:N0} devices drawn)"
                : string.Empty;
            console.MarkupLine($"timeline written to [bold]{Markup.Escape(timeline)}[/]{Markup.Escape(rows)}");
        }

        return 0;
    }

    /// <summary>The profile the settings name: a file, a built-in or <c>local</c> (measured now), or flags; flags override a named or read profile.</summary>
    private static DeviceProfile ResolveProfile(Settings settings)
    {
        DeviceProfile profile;
        if (settings.ProfileFile is { } file)
        {
            profile = PlanProfiles.Load(file);
        }
        else if (settings.Profile is null && settings.HasProfileFlags)
        {
            return ProfileCatalog.Custom(settings.Flops!.Value, settings.Bandwidth!.Value, settings.Latency ?? 0, (long)settings.Memory!.Value, settings.Efficiency ?? 1);
        }
        else if (string.Equals(settings.Profile?.Trim(), ProfileCatalog.LocalName, StringComparison.OrdinalIgnoreCase))
        {
            profile = PlanLocalProfile.Measure(settings.Devices, PlanLocalProfile.DefaultHost()).Profile;
        }
        else
        {
            profile = ProfileCatalog.Get(settings.Profile ?? DefaultProfile);
        }

        if (!settings.HasProfileFlags)
        {
            return profile;
        }

        var overridden = new List<string>();
        if (settings.Flops is { } flops)
        {
            profile = profile with { PeakFlops = flops };
            overridden.Add(Invariant($"--flops {flops:G6}"));
        }

        if (settings.Bandwidth is { } bandwidth)
        {
            profile = profile with { LinkBandwidth = bandwidth };
            overridden.Add(Invariant($"--bandwidth {bandwidth:G6}"));
        }

        if (settings.Latency is { } latency)
        {
            profile = profile with { LinkLatency = latency };
            overridden.Add(Invariant($"--latency {latency:G6}"));
        }

        if (settings.Memory is { } memory)
        {
            profile = profile with { MemoryBytes = (long)memory };
            overridden.Add(Invariant($"--memory {memory:G6}"));
        }

        if (settings.Efficiency is { } efficiency)
        {
            profile = profile with { Efficiency = efficiency };
            overridden.Add(Invariant($"--efficiency {efficiency:G6}"));
        }

        return profile with { Source = $"{profile.Source}; overridden on the command line: {string.Join(", ", overridden)}" };
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
