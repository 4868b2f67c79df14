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
        [Description("Devices in the ring (default 8); with --cluster, all devices of the cluster (a multiple of its devices per node).")]
        public int? DevicesGiven { get; init; }

        public int Devices => DevicesGiven ?? 8;

        public bool HasDevicesFlag => DevicesGiven is not null;

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

        [CommandOption("--trace <FILE>")]
        [Description("Write the predicted timeline in the Chrome trace event format (FILE.json; Perfetto opens it): one process per device, lanes compute, send, receive.")]
        public string? Trace { get; init; }

        [CommandOption("--compare")]
        [Description("Compare the context-parallel strategies (ring-pass-kv, pass-q, all-gather-kv, ulysses, usp, hierarchical) on the cluster: one row each, the fastest that fits marked.")]
        public bool Compare { get; init; }

        [CommandOption("--strategy <NAME>")]
        [Description("Plan one context-parallel strategy on the cluster: ring-pass-kv, pass-q, all-gather-kv, ulysses, usp or hierarchical.")]
        public string? Strategy { get; init; }

        [CommandOption("--cluster <NAME>")]
        [Description("Built-in cluster for --compare/--strategy: dgx-h100, dgx-a100, a100-pcie-node, tpu-v4 (default: --devices devices of the profile, one link each).")]
        public string? Cluster { get; init; }

        [CommandOption("--cluster-file <FILE>")]
        [Description("Read the cluster from a JSON or HOCON file (keys device or peakFlops and memoryBytes, efficiency, nodes, devicesPerNode, intraBandwidth, intraLatency, nicBandwidth, nicLatency, nic, name, source).")]
        public string? ClusterFile { get; init; }

        [CommandOption("--nodes <N>")]
        [Description("Nodes of the cluster (default: --devices / devices per node).")]
        public int? Nodes { get; init; }

        [CommandOption("--devices-per-node <N>")]
        [Description("Devices in each node (overrides the cluster's).")]
        public int? DevicesPerNode { get; init; }

        [CommandOption("--intra-bandwidth <B>")]
        [Description("Bytes/s per direction of a device's port inside a node (overrides the cluster's).")]
        public double? IntraBandwidth { get; init; }

        [CommandOption("--nic-bandwidth <B>")]
        [Description("Bytes/s per direction of a NIC between nodes (overrides the cluster's).")]
        public double? NicBandwidth { get; init; }

        [CommandOption("--nic <SHARING>")]
        [Description("per-device (one NIC each) or per-node (one NIC shared by the node's devices).")]
        public string? Nic { get; init; }

        [CommandOption("--tp <T>")]
        [Description("Tensor parallelism inside a node: T devices share each layer's heads (default 1).")]
        [DefaultValue(1)]
        public int Tp { get; init; } = 1;

        [CommandOption("--kv-heads-per-step <G>")]
        [Description("all-gather-kv: K/V heads gathered per step, the next group gathered while this one computes (default: all at once).")]
        public int? KvHeadsPerStep { get; init; }

        [CommandOption("--ulysses-degree <U>")]
        [Description("usp: the Ulysses degree (the ring degree is the rest); default: the fastest proper divisor.")]
        public int? UlyssesDegree { get; init; }

        [CommandOption("--model <NAME>")]
        [Description("Plan a whole model: llama3-8b, llama3-70b, llama3-405b, or custom (with --layers, --hidden, --ffn and --heads, --kv-heads, --dim). Its heads replace --heads, --kv-heads and --dim.")]
        public string? Model { get; init; }

        [CommandOption("--layers <L>")]
        [Description("Layers of a custom model (or overrides the model's).")]
        public int? Layers { get; init; }

        [CommandOption("--hidden <H>")]
        [Description("Hidden size of a custom model.")]
        public int? Hidden { get; init; }

        [CommandOption("--ffn <F>")]
        [Description("Feed-forward size of a custom model (SwiGLU, three matrices).")]
        public int? Ffn { get; init; }

        [CommandOption("--fp8-ffn")]
        [Description("Feed-forward weights in fp8: half their bytes and GEMMs at twice the bf16 peak.")]
        public bool Fp8Ffn { get; init; }

        [CommandOption("--training")]
        [Description("Plan forward and backward (backward attention 2.5 × the forward's FLOPs) with training memory; default: inference prefill.")]
        public bool Training { get; init; }

        [CommandOption("--gemm-efficiency <E>")]
        [Description("Share of the peak FLOP/s the projections' and FFN's GEMMs achieve, in (0, 1]] (default 1).")]
        public double? GemmEfficiency { get; init; }

        public bool UsesStrategies => Compare || Strategy is not null;

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
                ?? Check(Profile is null && ProfileFile is null && Cluster is null && ClusterFile is null && HasProfileFlags && (Flops is null || Bandwidth is null || Memory is null),
                    $"a custom profile needs --flops, --bandwidth and --memory (missing {string.Join(", ", Missing())}), or name a --profile to override")
                ?? Check(Timeline is not null && !IsPlotFile(Timeline), $"--timeline must name a .png or .svg file, got '{Timeline}'")
                ?? Check(Trace is not null && !string.Equals(Path.GetExtension(Trace), ".json", StringComparison.OrdinalIgnoreCase), $"--trace must name a .json file, got '{Trace}'")
                ?? Check(Compare && Strategy is not null, "give either --compare or --strategy, not both")
                ?? Check((Cluster ?? ClusterFile) is not null && (Profile ?? ProfileFile) is not null, "a cluster names its device: give --cluster/--cluster-file or --profile/--profile-file, not both")
                ?? Check((Cluster ?? ClusterFile) is not null && (Bandwidth ?? Latency) is not null, "--bandwidth and --latency are a profile's link: with a cluster use --intra-bandwidth and --nic-bandwidth")
                ?? Check(Cluster is not null && ClusterFile is not null, "give either --cluster or --cluster-file, not both")
                ?? Check(!UsesStrategies && (Cluster ?? ClusterFile ?? Model ?? Nic) is not null, "--cluster, --cluster-file, --model and --nic need --compare or --strategy")
                ?? Check(!UsesStrategies && (Nodes ?? DevicesPerNode ?? KvHeadsPerStep ?? UlyssesDegree ?? Layers ?? Hidden ?? Ffn) is not null,
                    "--nodes, --devices-per-node, --kv-heads-per-step, --ulysses-degree, --layers, --hidden and --ffn need --compare or --strategy")
                ?? Check(!UsesStrategies && (Tp != 1 || Training || Fp8Ffn || GemmEfficiency is not null), "--tp, --training, --fp8-ffn and --gemm-efficiency need --compare or --strategy")
                ?? Check(UsesStrategies && (Actors || Timeline is not null), "--actors and --timeline draw the ring of a plain plan; with --compare or --strategy use --trace")
                ?? Rate("--intra-bandwidth", IntraBandwidth)
                ?? Rate("--nic-bandwidth", NicBandwidth)
                ?? Check(GemmEfficiency is { } g && !(double.IsFinite(g) && g > 0 && g <= 1), $"--gemm-efficiency must be in (0, 1], got {Show(GemmEfficiency)}")
                ?? RingActors.Host.Cli.OptionLimits.Whole("--nodes", Nodes, 1, 65_536)
                ?? RingActors.Host.Cli.OptionLimits.Whole("--devices-per-node", DevicesPerNode, 1, RingActors.Host.Cli.OptionLimits.MaxDevices)
                ?? RingActors.Host.Cli.OptionLimits.Whole("--tp", Tp, 1, RingActors.Host.Cli.OptionLimits.MaxDevices)
                ?? RingActors.Host.Cli.OptionLimits.Whole("--kv-heads-per-step", KvHeadsPerStep, 1, 1_000_000)
                ?? RingActors.Host.Cli.OptionLimits.Whole("--ulysses-degree", UlyssesDegree, 1, RingActors.Host.Cli.OptionLimits.MaxDevices)
                ?? RingActors.Host.Cli.OptionLimits.Whole("--layers", Layers, 1, 10_000)
                ?? RingActors.Host.Cli.OptionLimits.Whole("--hidden", Hidden, 1, 1 << 20)
                ?? RingActors.Host.Cli.OptionLimits.Whole("--ffn", Ffn, 1, 1 << 22)

                // The planner keeps a P × P table of step times: bounded, it fits in memory and an int.
                ?? RingActors.Host.Cli.OptionLimits.Whole("--devices", Devices, 1, RingActors.Host.Cli.OptionLimits.MaxDevices);
            return error is null ? base.Validate() : ValidationResult.Error(error);
        }

        /// <summary>The plan request these settings describe, with <paramref name="profile"/>.</summary>
        public PlanRequest Request(DeviceProfile profile) =>
            new PlanRequest(profile, Devices, Seq, Heads, KvHeads, Dim, ElementTypes.Parse(Dtype), RingActors.Actors.SequenceLayout.ParseKind(Layout), IsCausal, Batch,
                RecordTimeline: Timeline is not null || Trace is not null).Validate();

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

        if (settings.UsesStrategies)
        {
            return PlanStrategies(settings);
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

        if (settings.Trace is { } trace)
        {
            var request = result.Request;
            ChromeTrace.Write(trace, result.Timeline, Invariant($"{profile.Name}: {request.Devices} devices, N = {request.SeqLen:N0}, ring pass-KV"));
            console.MarkupLine($"trace written to [bold]{Markup.Escape(trace)}[/] (Chrome trace event format)");
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

    /// <summary><c>--compare</c> or <c>--strategy</c>: the cluster, the model and the strategies, as a table and optionally JSON and a trace of the best.</summary>
    private int PlanStrategies(Settings settings)
    {
        var strategy = settings.Strategy is { } name ? CpGeometry.Parse(name) : (CpStrategy?)null;
        var nic = settings.Nic is { } text ? ClusterCatalog.ParseNic(text) : (NicSharing?)null;
        var model = ResolveModel(settings);
        var dtype = ElementTypes.Parse(settings.Dtype);
        var layout = RingActors.Actors.SequenceLayout.ParseKind(settings.Layout);
        var cluster = ResolveCluster(settings, nic);
        var request = new CpRequest(cluster, settings.Seq, model?.Heads ?? settings.Heads, model?.KvHeads ?? settings.KvHeads, model?.HeadDim ?? settings.Dim,
            dtype, layout, settings.IsCausal, settings.Batch, settings.Tp, settings.KvHeadsPerStep, settings.UlyssesDegree, model,
            settings.Training ? PlanMode.Training : PlanMode.Prefill, settings.GemmEfficiency ?? 1).Validate();

        CpComparison comparison;
        if (strategy is { } one)
        {
            // One strategy: a refusal is the user's error, in one line.
            var plan = ContextParallelPlanner.Plan(request, CpGeometry.Of(one, request) is { Refusal: null } g ? g : throw new ArgumentException(CpGeometry.Of(one, request).Refusal));
            comparison = new CpComparison(request, [plan], []);
        }
        else
        {
            comparison = ContextParallelPlanner.Compare(request);
        }

        PlanComparison.Write(console, comparison);
        if (settings.Json is { } json)
        {
            PlanComparison.WriteJson(json, comparison);
            console.MarkupLine($"JSON written to [bold]{Markup.Escape(json)}[/]");
        }

        if (settings.Trace is { } trace && (comparison.Best ?? comparison.Plans.FirstOrDefault()) is { } traced)
        {
            var recorded = ContextParallelPlanner.Plan(request with { RecordTasks = true }, traced.Geometry);
            ChromeTrace.Write(trace, recorded.Timeline, Invariant($"{cluster.Name}: {traced.Name}, {cluster.Devices} devices, N = {request.SeqLen:N0}{(model is null ? "" : $", one layer of {model.Name}")}"));
            console.MarkupLine($"trace of [bold]{Markup.Escape(traced.Name)}[/] written to [bold]{Markup.Escape(trace)}[/] (Chrome trace event format)");
        }

        return 0;
    }

    private static ModelShape? ResolveModel(Settings settings)
    {
        if (settings.Model is null)
        {
            return settings.Layers is not null || settings.Hidden is not null || settings.Ffn is not null || settings.Fp8Ffn
                ? throw new ArgumentException("--layers, --hidden, --ffn and --fp8-ffn describe a model: add --model custom (or a built-in model)")
                : null;
        }

        ModelShape model;
        if (string.Equals(settings.Model.Trim(), "custom", StringComparison.OrdinalIgnoreCase))
        {
            if (settings.Layers is null || settings.Hidden is null || settings.Ffn is null)
            {
                throw new ArgumentException("--model custom needs --layers, --hidden and --ffn (with --heads, --kv-heads and --dim)");
            }

            model = new ModelShape("custom", settings.Layers.Value, settings.Hidden.Value, settings.Heads, settings.KvHeads, settings.Dim, settings.Ffn.Value, 0, false, "given on the command line");
        }
        else
        {
            model = ModelShape.Get(settings.Model);
            if (settings.Hidden is not null || settings.Ffn is not null)
            {
                throw new ArgumentException($"--hidden and --ffn describe a custom model; {model.Name} has hidden {model.Hidden} and FFN {model.FeedForward}");
            }

            model = settings.Layers is { } layers ? model with { Layers = layers } : model;
        }

        return (settings.Fp8Ffn ? model with { Fp8FeedForward = true } : model).Validate();
    }

    /// <summary>The cluster of --cluster, --cluster-file or the profile (flat: one link per device), with the flags' overrides.</summary>
    private static ClusterProfile ResolveCluster(Settings settings, NicSharing? nic)
    {
        ClusterProfile cluster;
        if (settings.ClusterFile is { } file)
        {
            cluster = PlanComparison.LoadCluster(file);
        }
        else if (settings.Cluster is { } name)
        {
            cluster = ClusterCatalog.Get(name);
        }
        else
        {
            var profile = ResolveProfile(settings);
            cluster = new ClusterProfile(profile.Name, profile, 1, 1, profile.LinkBandwidth, profile.LinkLatency, profile.LinkBandwidth, profile.LinkLatency,
                NicSharing.PerDevice, $"{profile.Name} devices, the profile's link (bandwidth and latency) between any two: {profile.Source}");
        }

        if (settings.ClusterFile is not null || settings.Cluster is not null)
        {
            cluster = cluster.WithDevice(OverrideDevice(cluster.Device, settings));
        }

        var devicesPerNode = settings.DevicesPerNode ?? cluster.DevicesPerNode;
        int nodes;
        if (settings.Nodes is { } given)
        {
            nodes = given;
        }
        else if ((settings.ClusterFile is not null || settings.Cluster is not null) && !settings.HasDevicesFlag)
        {
            nodes = cluster.Nodes;
        }
        else if (settings.Devices % devicesPerNode == 0)
        {
            nodes = settings.Devices / devicesPerNode;
        }
        else
        {
            throw new ArgumentException($"--devices ({settings.Devices}) must be a multiple of the {devicesPerNode} devices per node of {cluster.Name}, or give --nodes");
        }

        return new ClusterProfile(cluster.Name, cluster.Device, nodes, devicesPerNode, settings.IntraBandwidth ?? cluster.IntraBandwidth, cluster.IntraLatency,
            settings.NicBandwidth ?? cluster.NicBandwidth, cluster.NicLatency, nic ?? cluster.Nic, cluster.Source);
    }

    private static DeviceProfile OverrideDevice(DeviceProfile device, Settings settings)
    {
        if (settings.Flops is { } flops)
        {
            device = device with { PeakFlops = flops };
        }

        if (settings.Memory is { } memory)
        {
            device = device with { MemoryBytes = (long)memory };
        }

        if (settings.Efficiency is { } efficiency)
        {
            device = device with { Efficiency = efficiency };
        }

        return device;
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
