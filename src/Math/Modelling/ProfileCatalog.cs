using System.Globalization;

namespace RingActors.Math.Modelling;

/// <summary>
/// Device profiles by name: the five rows of the Ring Attention paper's Table 2, H100 SXM over NVLink and over
/// InfiniBand, a <c>local</c> profile built from numbers measured on the running machine, and custom profiles from
/// flags or a JSON file. The built-ins use peak rates with efficiency 1, as the paper's analysis does.
/// </summary>
public static class ProfileCatalog
{
    /// <summary>Name of the profile measured on the running machine (see <see cref="Local"/>).</summary>
    public const string LocalName = "local";

    private const double Tera = 1e12;
    private const double Giga = 1e9;
    private const long GiB = 1L << 30;

    // The paper does not give link latencies; these are typical one-hop figures, labelled as assumptions.
    private const double NvLinkLatency = 2e-6;
    private const double InfiniBandLatency = 5e-6;
    private const double IciLatency = 2e-6;

    private const string Paper = "Liu, Zaharia, Abbeel, Ring Attention with Blockwise Transformers (ICLR 2024), Table 2";
    private const string H100Sheet = "NVIDIA H100 Tensor Core GPU datasheet (H100 SXM: BF16 1,979 TFLOP/s with sparsity = 989 dense, 80 GB HBM3, NVLink 900 GB/s bidirectional)";

    private static readonly DeviceProfile[] BuiltInProfiles =
    [
        new("a100-nvlink", 312 * Tera, 1, 80 * GiB, 300 * Giga, NvLinkLatency,
            $"{Paper}: A100 312 TFLOP/s bf16, 80 GB HBM, NVLink 300 GB/s per direction; latency {NvLinkLatency * 1e6} µs assumed"),
        new("a100-infiniband", 312 * Tera, 1, 80 * GiB, 12.5 * Giga, InfiniBandLatency,
            $"{Paper}: A100 312 TFLOP/s bf16, 80 GB HBM, InfiniBand 12.5 GB/s (100 Gb/s); latency {InfiniBandLatency * 1e6} µs assumed"),
        new("tpu-v3", 123 * Tera, 1, 16 * GiB, 112 * Giga, IciLatency,
            $"{Paper}: TPU v3 123 TFLOP/s bf16, 16 GB HBM, ICI 112 GB/s; latency {IciLatency * 1e6} µs assumed"),
        new("tpu-v4", 275 * Tera, 1, 32 * GiB, 268 * Giga, IciLatency,
            $"{Paper}: TPU v4 275 TFLOP/s bf16, 32 GB HBM, ICI 268 GB/s; latency {IciLatency * 1e6} µs assumed"),
        new("tpu-v5e", 196 * Tera, 1, 16 * GiB, 186 * Giga, IciLatency,
            $"{Paper}: TPU v5e 196 TFLOP/s bf16, 16 GB HBM, ICI 186 GB/s; latency {IciLatency * 1e6} µs assumed"),
        new("h100-nvlink", 989 * Tera, 1, 80 * GiB, 450 * Giga, NvLinkLatency,
            $"{H100Sheet}; NVLink 4 450 GB/s per direction; latency {NvLinkLatency * 1e6} µs assumed"),
        new("h100-infiniband", 989 * Tera, 1, 80 * GiB, 50 * Giga, InfiniBandLatency,
            $"{H100Sheet}; InfiniBand NDR 400 Gb/s = 50 GB/s per direction (ConnectX-7); latency {InfiniBandLatency * 1e6} µs assumed"),
    ];

    private static readonly string[] KnownFields = ["name", "peakFlops", "efficiency", "memoryBytes", "linkBandwidth", "linkLatency", "source"];

    /// <summary>The built-in profiles, in the order of the paper's Table 2 and then H100.</summary>
    public static IReadOnlyList<DeviceProfile> BuiltIns => BuiltInProfiles;

    /// <summary>Names <see cref="Get"/> accepts, plus <see cref="LocalName"/> (which needs measurements, see <see cref="Local"/>).</summary>
    public static IReadOnlyList<string> Names => [.. BuiltInProfiles.Select(p => p.Name), LocalName];

    /// <summary>The built-in profile called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known names.</exception>
    public static DeviceProfile Get(string name)
    {
        var found = Array.Find(BuiltInProfiles, p => string.Equals(p.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase));
        if (found is not null)
        {
            return found;
        }

        if (string.Equals(name?.Trim(), LocalName, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"profile '{LocalName}' is measured on this machine: build it with ProfileCatalog.Local from the kernel and transport benchmarks", nameof(name));
        }

        throw new ArgumentException($"unknown profile '{name}': known profiles are {string.Join(", ", Names)}", nameof(name));
    }

    /// <summary>
    /// The <c>local</c> profile from rates the caller measured: the attention kernel's GFLOP/s (already an achieved
    /// rate, so efficiency is 1), the transport's bytes/s and its per-message latency, and the memory available.
    /// </summary>
    public static DeviceProfile Local(double kernelGflops, double linkBytesPerSecond, double latencySeconds, long memoryBytes) =>
        new(LocalName, kernelGflops * Giga, 1, memoryBytes, linkBytesPerSecond, latencySeconds,
            string.Create(CultureInfo.InvariantCulture,
                $"measured on this machine: kernel {kernelGflops:G4} GFLOP/s, link {linkBytesPerSecond / (1 << 20):G4} MiB/s, latency {latencySeconds * 1e6:G4} µs"));

    /// <summary>A profile from command-line flags (FLOP/s, bytes/s, seconds, bytes).</summary>
    public static DeviceProfile Custom(double flops, double bandwidth, double latencySeconds, long memoryBytes, double efficiency = 1, string name = "custom") =>
        new(name, flops, efficiency, memoryBytes, bandwidth, latencySeconds, "given on the command line");

    /// <summary>Reads a profile from a JSON file; see <see cref="FromJson"/> for the fields.</summary>
    public static DeviceProfile LoadJson(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary>
    /// A profile from JSON: <c>{"name": "...", "peakFlops": F, "efficiency": e, "memoryBytes": M, "linkBandwidth": B, "linkLatency": s, "source": "..."}</c>
    /// (FLOP/s, bytes, bytes/s, seconds). peakFlops, memoryBytes and linkBandwidth are required; efficiency defaults to 1,
    /// linkLatency to 0, name to "custom". Unknown fields are refused so a misspelt one is not silently ignored.
    /// HOCON profiles are not read here (that needs Akka's HOCON parser, which Math must not reference).
    /// </summary>
    /// <exception cref="ArgumentException">Malformed JSON, a missing or unknown field, or an invalid value; the message names <paramref name="source"/> and the field.</exception>
    public static DeviceProfile FromJson(string json, string source = "<json>")
    {
        var document = JsonFields.Parse(json, source, "a profile", KnownFields);
        using (document)
        {
            var root = document.RootElement;

            var memory = JsonFields.Number(root, "memoryBytes", source) ?? throw JsonFields.Missing("memoryBytes", source);
            if (memory >= long.MaxValue)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{source}: field 'memoryBytes' is too large ({memory:G6})"), "memoryBytes");
            }

            try
            {
                return new DeviceProfile(
                    JsonFields.Text(root, "name", source) ?? "custom",
                    JsonFields.Number(root, "peakFlops", source) ?? throw JsonFields.Missing("peakFlops", source),
                    JsonFields.Number(root, "efficiency", source) ?? 1,
                    (long)memory,
                    JsonFields.Number(root, "linkBandwidth", source) ?? throw JsonFields.Missing("linkBandwidth", source),
                    JsonFields.Number(root, "linkLatency", source) ?? 0,
                    JsonFields.Text(root, "source", source) ?? $"read from {source}");
            }
            catch (ArgumentException e) when (!e.Message.StartsWith(source, StringComparison.Ordinal))
            {
                // Prefix the file so the one-line error says where the bad value came from.
                throw new ArgumentException($"{source}: {e.Message.Split(" (Parameter")[0]}", e.ParamName);
            }
        }
    }



}
