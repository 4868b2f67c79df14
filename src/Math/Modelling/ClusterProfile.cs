using System.Globalization;
using System.Text.Json;

namespace RingActors.Math.Modelling;

/// <summary>How the devices of a node reach other nodes: each device its own NIC (rail-optimised DGX), or one NIC per node shared by its devices.</summary>
public enum NicSharing
{
    PerDevice,
    PerNode,
}

/// <summary>
/// A cluster for the context-parallel planner: <see cref="Nodes"/> nodes of <see cref="DevicesPerNode"/> devices, each a
/// <see cref="Device"/> (its compute, memory, attention-kernel efficiency; its link fields are not used here). Inside a node
/// every device has one full-duplex port on a switch (NVSwitch, ICI) of <see cref="IntraBandwidth"/> bytes/s per direction;
/// between nodes a transfer goes through the sender's and the receiver's NIC (<see cref="Nic"/>: one per device or one per
/// node) at <see cref="NicBandwidth"/> per direction. Device g lives on node g / DevicesPerNode.
/// </summary>
public sealed record ClusterProfile
{
    public ClusterProfile(string name, DeviceProfile device, int nodes, int devicesPerNode, double intraBandwidth, double intraLatency,
        double nicBandwidth, double nicLatency, NicSharing nic, string source)
    {
        ArgumentNullException.ThrowIfNull(device);
        Name = string.IsNullOrWhiteSpace(name) ? throw new ArgumentException("cluster name must not be empty", nameof(name)) : name;
        Device = device;
        Nodes = nodes >= 1 && nodes <= 65_536 ? nodes : throw new ArgumentException($"nodes must be in [1, 65536], got {nodes}", nameof(nodes));
        DevicesPerNode = devicesPerNode >= 1 && devicesPerNode <= 4096
            ? devicesPerNode
            : throw new ArgumentException($"devices per node must be in [1, 4096], got {devicesPerNode}", nameof(devicesPerNode));
        IntraBandwidth = Positive(intraBandwidth, "intra-node bandwidth");
        IntraLatency = NonNegative(intraLatency, "intra-node latency");
        NicBandwidth = Positive(nicBandwidth, "NIC bandwidth");
        NicLatency = NonNegative(nicLatency, "NIC latency");
        Nic = Enum.IsDefined(nic) ? nic : throw new ArgumentException($"unknown NIC sharing {nic}", nameof(nic));
        Source = source ?? "";
        if ((long)Nodes * DevicesPerNode > 1 << 20)
        {
            throw new ArgumentException($"a cluster of {Nodes} × {DevicesPerNode} devices is too large (at most 1,048,576)", nameof(nodes));
        }
    }

    public string Name { get; }

    public DeviceProfile Device { get; }

    public int Nodes { get; }

    public int DevicesPerNode { get; }

    public double IntraBandwidth { get; }

    public double IntraLatency { get; }

    public double NicBandwidth { get; }

    public double NicLatency { get; }

    public NicSharing Nic { get; }

    public string Source { get; }

    public int Devices => Nodes * DevicesPerNode;

    public int NodeOf(int device) => device / DevicesPerNode;

    /// <summary>The same cluster with <paramref name="nodes"/> nodes.</summary>
    public ClusterProfile WithNodes(int nodes) =>
        new(Name, Device, nodes, DevicesPerNode, IntraBandwidth, IntraLatency, NicBandwidth, NicLatency, Nic, Source);

    /// <summary>The same cluster with another device (an efficiency or memory override).</summary>
    public ClusterProfile WithDevice(DeviceProfile device) =>
        new(Name, device, Nodes, DevicesPerNode, IntraBandwidth, IntraLatency, NicBandwidth, NicLatency, Nic, Source);

    /// <summary>
    /// A flat cluster from a device profile: <paramref name="devices"/> nodes of one device, each with its own NIC of the
    /// profile's link bandwidth and latency: every hand-off crosses exactly one such link, as in <see cref="RingTimelineSimulator"/>.
    /// </summary>
    public static ClusterProfile Flat(DeviceProfile device, int devices)
    {
        ArgumentNullException.ThrowIfNull(device);
        return new(device.Name, device, devices, 1, device.LinkBandwidth, device.LinkLatency, device.LinkBandwidth, device.LinkLatency,
            NicSharing.PerDevice, $"{devices} × {device.Name}, one link each ({device.Source})");
    }

    private static double Positive(double value, string what) =>
        double.IsFinite(value) && value > 0 ? value : throw new ArgumentException($"{what} must be finite and > 0, got {Show(value)}", what);

    private static double NonNegative(double value, string what) =>
        double.IsFinite(value) && value >= 0 ? value : throw new ArgumentException($"{what} must be finite and ≥ 0 seconds, got {Show(value)}", what);

    private static string Show(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}

/// <summary>
/// Built-in clusters with their sources, and custom ones from JSON (the host reads HOCON and turns it into the same JSON).
/// Sizes are per node; the number of nodes is chosen per plan (<see cref="ClusterProfile.WithNodes"/>).
/// </summary>
public static class ClusterCatalog
{
    private const double Giga = 1e9;
    private const long GiB = 1L << 30;

    private static readonly string[] KnownFields =
        ["name", "device", "peakFlops", "efficiency", "memoryBytes", "nodes", "devicesPerNode", "intraBandwidth", "intraLatency", "nicBandwidth", "nicLatency", "nic", "source"];

    private static ClusterProfile[] BuiltIns() =>
    [
        new("dgx-h100", ProfileCatalog.Get("h100-nvlink"), 1, 8, 450 * Giga, 2e-6, 50 * Giga, 5e-6, NicSharing.PerDevice,
            "NVIDIA DGX H100 user guide: 8 × H100 SXM (989 TFLOP/s dense bf16, 80 GB) on NVSwitch (NVLink 4, 450 GB/s per direction per GPU), "
            + "8 × ConnectX-7 400 Gb/s (50 GB/s) InfiniBand, one per GPU; latencies 2 µs and 5 µs assumed"),
        new("dgx-a100", ProfileCatalog.Get("a100-nvlink"), 1, 8, 300 * Giga, 2e-6, 25 * Giga, 5e-6, NicSharing.PerDevice,
            "NVIDIA DGX A100 user guide: 8 × A100 SXM (312 TFLOP/s bf16, 80 GB) on NVSwitch (NVLink 3, 300 GB/s per direction per GPU), "
            + "8 × ConnectX-6 200 Gb/s (25 GB/s) HDR InfiniBand, one per GPU; latencies assumed"),
        new("a100-pcie-node", ProfileCatalog.Get("a100-nvlink") with { MemoryBytes = 80 * GiB }, 1, 8, 32 * Giga, 5e-6, 12.5 * Giga, 5e-6, NicSharing.PerNode,
            "a commodity A100 server: 8 × A100 over PCIe 4.0 x16 (32 GB/s per direction), one 100 Gb/s (12.5 GB/s) NIC per node "
            + "(the paper's A100 InfiniBand row); latencies assumed"),
        new("tpu-v4", ProfileCatalog.Get("tpu-v4"), 1, 4, 268 * Giga, 2e-6, 268 * Giga, 2e-6, NicSharing.PerDevice,
            "Google TPU v4 (Jouppi et al., ISCA 2023): 275 TFLOP/s bf16, 32 GB HBM, 4 chips per host; the 3-D torus ICI is modelled as "
            + "one 268 GB/s port per chip (the Ring Attention paper's B) inside and between hosts; latency assumed"),
    ];

    /// <summary>The built-in clusters (one node each; give the node count per plan).</summary>
    public static IReadOnlyList<ClusterProfile> All => BuiltIns();

    public static IReadOnlyList<string> Names => [.. BuiltIns().Select(c => c.Name)];

    /// <summary>The built-in cluster called <paramref name="name"/> (case-insensitive) with <paramref name="nodes"/> nodes.</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static ClusterProfile Get(string name, int nodes = 1)
    {
        var found = Array.Find(BuiltIns(), c => string.Equals(c.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"unknown cluster '{name}': known clusters are {string.Join(", ", Names)}", nameof(name));
        return found.WithNodes(nodes);
    }

    /// <summary>
    /// A cluster from JSON: <c>device</c> (a built-in device profile name) or <c>peakFlops</c> and <c>memoryBytes</c>
    /// (and <c>efficiency</c>); <c>devicesPerNode</c>, <c>intraBandwidth</c>, <c>nicBandwidth</c> (bytes/s per direction)
    /// required; <c>nodes</c> (1), <c>intraLatency</c>, <c>nicLatency</c> (0 s), <c>nic</c> (<c>per-device</c> or
    /// <c>per-node</c>), <c>name</c>, <c>source</c> optional. Unknown fields are refused.
    /// </summary>
    public static ClusterProfile FromJson(string json, string source = "<json>")
    {
        var document = JsonFields.Parse(json, source, "a cluster", KnownFields);
        using (document)
        {
            var root = document.RootElement;

            try
            {
                DeviceProfile device;
                if (JsonFields.Text(root, "device", source) is { } deviceName)
                {
                    device = ProfileCatalog.Get(deviceName);
                    if (JsonFields.Number(root, "peakFlops", source) is { } flops)
                    {
                        device = device with { PeakFlops = flops };
                    }

                    if (JsonFields.Number(root, "memoryBytes", source) is { } bytes)
                    {
                        device = device with { MemoryBytes = Bytes(bytes, source) };
                    }
                }
                else
                {
                    device = new DeviceProfile("custom", JsonFields.Number(root, "peakFlops", source) ?? throw JsonFields.Missing("peakFlops (or device)", source), 1,
                        Bytes(JsonFields.Number(root, "memoryBytes", source) ?? throw JsonFields.Missing("memoryBytes", source), source), 1, 0, $"read from {source}");
                }

                if (JsonFields.Number(root, "efficiency", source) is { } efficiency)
                {
                    device = device with { Efficiency = efficiency };
                }

                var nic = JsonFields.Text(root, "nic", source) ?? "per-device";
                return new ClusterProfile(
                    JsonFields.Text(root, "name", source) ?? "custom",
                    device,
                    Whole(root, "nodes", source) ?? 1,
                    Whole(root, "devicesPerNode", source) ?? throw JsonFields.Missing("devicesPerNode", source),
                    JsonFields.Number(root, "intraBandwidth", source) ?? throw JsonFields.Missing("intraBandwidth", source),
                    JsonFields.Number(root, "intraLatency", source) ?? 0,
                    JsonFields.Number(root, "nicBandwidth", source) ?? throw JsonFields.Missing("nicBandwidth", source),
                    JsonFields.Number(root, "nicLatency", source) ?? 0,
                    ParseNic(nic),
                    JsonFields.Text(root, "source", source) ?? $"read from {source}");
            }
            catch (ArgumentException e) when (!e.Message.StartsWith(source, StringComparison.Ordinal))
            {
                throw new ArgumentException($"{source}: {e.Message.Split(" (Parameter")[0]}", e.ParamName);
            }
        }
    }

    /// <summary>Parses <c>per-device</c> or <c>per-node</c>.</summary>
    public static NicSharing ParseNic(string text) => text?.Trim().ToUpperInvariant() switch
    {
        "PER-DEVICE" or "DEVICE" => NicSharing.PerDevice,
        "PER-NODE" or "NODE" => NicSharing.PerNode,
        _ => throw new ArgumentException($"unknown NIC sharing '{text}': expected per-device or per-node", nameof(text)),
    };

    private static long Bytes(double value, string source) =>
        value is > 0 and < long.MaxValue ? (long)value : throw new ArgumentException($"{source}: field 'memoryBytes' must be in (0, 2^63), got {value.ToString("G6", CultureInfo.InvariantCulture)}", "memoryBytes");


    private static int? Whole(JsonElement root, string field, string source) =>
        JsonFields.Number(root, field, source) is { } value
            ? value == System.Math.Floor(value) && value is >= 1 and <= 1 << 20 ? (int)value : throw new ArgumentException($"{source}: field '{field}' must be a whole number ≥ 1, got {value.ToString("G6", CultureInfo.InvariantCulture)}", field)
            : null;


}
