using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Akka.Configuration;
using RingActors.Math.Modelling;
using Spectre.Console;

namespace RingActors.Host.Reporting;

/// <summary>
/// <c>plan --compare</c> and <c>plan --strategy</c>: the table of strategies (predicted time, overlap, bytes sent per
/// device, memory per device, fits; the fastest that fits marked) and its JSON (<c>strategies[]</c>); cluster files.
/// </summary>
public static class PlanComparison
{
    public const string FastestMark = "◀ fastest that fits";

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes the cluster, the workload and one row per strategy (refused ones with their reason).</summary>
    public static void Write(IAnsiConsole console, CpComparison comparison)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(comparison);
        var request = comparison.Request;
        var cluster = request.Cluster;
        var device = cluster.Device;
        var header = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        header.AddRow("mask", Cli.MaskWords.Name(request.Causal));
        header.AddRow("cluster", Markup.Escape(Invariant(
            $"{cluster.Name}: {cluster.Nodes} node(s) × {cluster.DevicesPerNode} = {cluster.Devices} devices; device {device.Name} {device.PeakFlops / 1e12:0.#} TFLOP/s × {device.Efficiency:0.##} (attention), ")
            + Invariant($"GEMMs × {request.GemmEfficiency:0.##}, {Units.Bytes(device.MemoryBytes)}; intra-node {cluster.IntraBandwidth / 1e9:0.#} GB/s, ")
            + Invariant($"NIC {cluster.NicBandwidth / 1e9:0.#} GB/s {(cluster.Nic == NicSharing.PerDevice ? "per device" : "per node")} (per direction, full duplex)")));
        header.AddRow("source", Markup.Escape(cluster.Source));
        header.AddRow("work", Markup.Escape(Invariant(
            $"N = {request.SeqLen:N0} tokens, B={request.Batch} H={request.Heads} Hkv={request.KvHeads} d={request.HeadDim}, {request.DataType.ToString().ToLowerInvariant()}, ")
            + Invariant($"{request.Layout.ToString().ToLowerInvariant()} layout, TP {request.TensorParallel} × CP {request.ContextParallel}")
            + (request.Model is { } model
                ? Invariant($"; {model.Name}: {model.Layers} layers, hidden {model.Hidden}, FFN {model.FeedForward}{(model.Fp8FeedForward ? " (fp8)" : "")}, {(request.Mode == PlanMode.Training ? "training (forward + backward)" : "prefill")}")
                : Invariant($"; one attention layer, {(request.Mode == PlanMode.Training ? "forward + backward" : "forward")}"))));
        console.Write(header);
        console.WriteLine();

        var best = comparison.Best;
        var table = new Table().Border(TableBorder.Rounded)
            .Title(Markup.Escape(request.Model is null ? "strategies: one attention layer" : "strategies: the whole model (layers × one layer's schedule)"))
            .Caption(Markup.Escape("bytes sent: one forward attention pass of one layer, the busiest device, counted from the simulated messages; overlap: share of receive time the receiver computed through"));
        table.AddColumns("strategy", "predicted", request.Model is null ? "attention" : "per layer", "overlap", "bytes sent/device", "memory/device", "fits", "");
        foreach (var plan in comparison.Plans)
        {
            table.AddRow(
                Markup.Escape(plan.Name),
                Units.Seconds(plan.PredictedSeconds),
                Units.Seconds(request.Model is null ? plan.AttentionSeconds : plan.LayerSeconds),
                Units.Percent(plan.Overlap),
                Units.Bytes(plan.BytesSentPerDevice),
                Units.Bytes(plan.MemoryPerDeviceBytes),
                plan.Fits ? "yes" : "no",
                ReferenceEquals(plan, best) ? Markup.Escape(FastestMark) : "");
        }

        foreach (var refused in comparison.Refused)
        {
            table.AddRow(Markup.Escape(CpGeometry.Key(refused.Strategy)), "–", "–", "–", "–", "–", "–", Markup.Escape($"refused: {refused.Refusal}"));
        }

        console.Write(table);
        if (best is null && comparison.Plans.Count > 0)
        {
            console.MarkupLine("no strategy fits the device's memory");
        }
    }

    /// <summary>The JSON of a comparison: the inputs, <c>strategies[]</c> and <c>refused[]</c>, and <c>best</c>.</summary>
    public static string ToJson(CpComparison comparison)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        var request = comparison.Request;
        var cluster = request.Cluster;
        var best = comparison.Best;
        var report = new
        {
            mask = Cli.MaskWords.Name(request.Causal),
            cluster = new
            {
                cluster.Name,
                cluster.Nodes,
                cluster.DevicesPerNode,
                device = cluster.Device.Name,
                cluster.Device.PeakFlops,
                attentionEfficiency = cluster.Device.Efficiency,
                request.GemmEfficiency,
                cluster.Device.MemoryBytes,
                cluster.IntraBandwidth,
                cluster.IntraLatency,
                cluster.NicBandwidth,
                cluster.NicLatency,
                nic = cluster.Nic == NicSharing.PerDevice ? "per-device" : "per-node",
                cluster.Source,
            },
            request = new
            {
                request.SeqLen,
                request.Batch,
                request.Heads,
                request.KvHeads,
                request.HeadDim,
                dtype = request.DataType.ToString().ToLowerInvariant(),
                layout = request.Layout.ToString().ToLowerInvariant(),
                request.Causal,
                request.TensorParallel,
                request.ContextParallel,
                mode = request.Mode == PlanMode.Training ? "training" : "prefill",
                model = request.Model is { } m ? new { m.Name, m.Layers, m.Hidden, m.FeedForward, m.Vocabulary, fp8FeedForward = m.Fp8FeedForward, m.Parameters } : null,
            },
            best = best?.Name,
            strategies = comparison.Plans.Select(p => new
            {
                p.Name,
                strategy = CpGeometry.Key(p.Strategy),
                ulyssesDegree = p.Geometry.Ulysses,
                ringDegree = p.Geometry.Ring,
                kvReplicated = p.Geometry.KvReplicated,
                p.PredictedSeconds,
                p.AttentionSeconds,
                p.LayerSeconds,
                p.Overlap,
                p.BytesSentPerDevice,
                p.LayerBytesSentPerDevice,
                p.MessagesPerDevice,
                p.MemoryPerDeviceBytes,
                weightBytes = p.Memory.WeightBytes,
                activationBytes = p.Memory.ActivationBytes,
                inFlightBytes = p.Memory.InFlightBytes,
                p.Fits,
                fastest = ReferenceEquals(p, best),
                p.TotalFlops,
            }),
            refused = comparison.Refused.Select(r => new { name = CpGeometry.Key(r.Strategy), reason = r.Refusal }),
        };
        return JsonSerializer.Serialize(report, Options);
    }

    public static void WriteJson(string path, CpComparison comparison)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllText(path, ToJson(comparison) + Environment.NewLine);
    }

    /// <summary>A cluster file: HOCON for <c>.conf</c>/<c>.hocon</c> (turned into JSON), JSON otherwise; the keys of <see cref="ClusterCatalog.FromJson"/>.</summary>
    public static ClusterProfile LoadCluster(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new ArgumentException($"cluster file {path} does not exist", nameof(path));
        }

        var text = File.ReadAllText(path);
        if (Path.GetExtension(path).ToUpperInvariant() is not (".CONF" or ".HOCON"))
        {
            return ClusterCatalog.FromJson(text, path);
        }

        Config config;
        try
        {
            config = ConfigurationFactory.ParseString(text);
        }
        catch (Exception error) when (error is ConfigurationException or FormatException or InvalidOperationException)
        {
            throw new ArgumentException($"{path}: not valid HOCON ({error.Message.Split('\n')[0].Trim()})", nameof(path));
        }

        var json = new Dictionary<string, object>(StringComparer.Ordinal);
        if (!config.IsEmpty && config.Root is not null && config.Root.IsObject())
        {
            foreach (var (key, value) in config.Root.GetObject().Items)
            {
                if (value.IsObject() || value.IsArray())
                {
                    throw new ArgumentException($"{path}: field '{key}' must be a single value, got {value.ToString().Trim()}", key);
                }

                var raw = value.GetString();
                json[key] = key is "name" or "source" or "device" or "nic" || !double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                    ? raw ?? string.Empty
                    : double.IsFinite(number) ? number : throw new ArgumentException($"{path}: field '{key}' must be a finite number, got {raw}", key);
            }
        }

        return ClusterCatalog.FromJson(JsonSerializer.Serialize(json), path);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
