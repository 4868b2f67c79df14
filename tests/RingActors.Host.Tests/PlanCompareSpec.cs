using System.Text.Json;
using RingActors.Host.Reporting;
using RingActors.Math.Modelling;

namespace RingActors.Host.Tests;

public sealed class PlanCompareSpec : IDisposable
{
    private static readonly string[] StrategyKeys = ["name", "predictedSeconds", "bytesSentPerDevice", "memoryPerDeviceBytes", "fits"];

    private readonly string _directory = Directory.CreateTempSubdirectory("ringactors-compare-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Plan_compare_must_print_one_row_per_strategy_and_mark_the_fastest_that_fits()
    {
        var (exitCode, output, errors) = CommandLine.Run("plan", "--compare", "--cluster", "dgx-h100", "--nodes", "2", "--seq", "65536");
        Assert.Equal(string.Empty, errors);
        Assert.Equal(0, exitCode);
        var rows = output.Split('\n').Where(line => line.StartsWith('│') && !line.Contains("strategy", StringComparison.Ordinal)).ToList();
        Assert.Equal(6, rows.Count);
        Assert.Single(rows, row => row.Contains(PlanComparison.FastestMark, StringComparison.Ordinal));

        var expected = ContextParallelPlanner.Compare(new CpRequest(ClusterCatalog.Get("dgx-h100", 2), 65536, 32, 8, 128)).Best!;
        Assert.Contains(PlanComparison.FastestMark, rows.Single(row => row.StartsWith($"│ {expected.Name} ", StringComparison.Ordinal)));
    }

    [Fact]
    public void Plan_compare_json_must_hold_strategies_with_the_simulated_figures()
    {
        var path = Path.Combine(_directory, "compare.json");
        var (exitCode, _, errors) = CommandLine.Run("plan", "--compare", "--cluster", "dgx-a100", "--devices", "16", "--seq", "32768",
            "--heads", "16", "--kv-heads", "4", "--dim", "64", "--layout", "contiguous", "--json", path);
        Assert.Equal(string.Empty, errors);
        Assert.Equal(0, exitCode);

        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var strategies = document.RootElement.GetProperty("strategies").EnumerateArray().ToList();
        Assert.Equal(6, strategies.Count);
        foreach (var strategy in strategies)
        {
            foreach (var key in StrategyKeys)
            {
                Assert.True(strategy.TryGetProperty(key, out _), $"missing {key}");
            }
        }

        // Ring pass-KV over 16 devices: (P − 1)·B·(N/P)·2·Hkv·d·s = 15 · 2048 · 2 · 4 · 64 · 2 bytes.
        var ring = strategies.Single(s => s.GetProperty("name").GetString() == "ring-pass-kv");
        Assert.Equal(15L * 2048 * 2 * 4 * 64 * 2, ring.GetProperty("bytesSentPerDevice").GetInt64());
        // Ulysses, K/V heads replicated to 16: ((P − 1)/P)·B·(N/P)·(2H + 2·16)·d·s.
        var ulysses = strategies.Single(s => s.GetProperty("name").GetString() == "ulysses");
        Assert.Equal(15L * 2048 * ((2 * 16) + (2 * 16)) * 64 * 2 / 16, ulysses.GetProperty("bytesSentPerDevice").GetInt64());
        Assert.True(ulysses.GetProperty("kvReplicated").GetBoolean());
        Assert.Equal(1, strategies.Count(s => s.GetProperty("fastest").GetBoolean()));
    }

    [Fact]
    public void Plan_strategy_must_refuse_heads_it_cannot_split_in_one_line_with_exit_2()
    {
        var (exitCode, output, errors) = CommandLine.Run("plan", "--strategy", "ulysses", "--cluster", "dgx-h100", "--heads", "12", "--kv-heads", "4");
        Assert.Equal(2, exitCode);
        Assert.Equal("ringactors: error: ulysses: 12 query heads per device cannot be split over 8 devices (heads must be divisible by the Ulysses degree)" + Environment.NewLine, errors);
        Assert.DoesNotContain("   at ", output + errors);
    }

    [Theory]
    [InlineData("--strategy", "rings", "unknown strategy 'rings': expected ring-pass-kv, pass-q, all-gather-kv, ulysses, usp, hierarchical")]
    [InlineData("--cluster", "dgx-z", "unknown cluster 'dgx-z': known clusters are dgx-h100, dgx-a100, a100-pcie-node, tpu-v4")]
    [InlineData("--model", "llama9", "unknown model 'llama9': known models are llama3-8b, llama3-70b, llama3-405b")]
    [InlineData("--nic", "shared", "unknown NIC sharing 'shared': expected per-device or per-node")]
    [InlineData("--tp", "3", "tensor parallelism (3) must divide the devices per node (8): it stays inside a node")]
    [InlineData("--devices", "12", "--devices (12) must be a multiple of the 8 devices per node of dgx-h100, or give --nodes")]
    public void Plan_compare_must_refuse_bad_input_in_one_line(string option, string value, string message)
    {
        string[] args = option switch
        {
            "--cluster" => ["plan", "--compare", option, value],
            "--strategy" => ["plan", "--cluster", "dgx-h100", option, value],
            _ => ["plan", "--compare", "--cluster", "dgx-h100", option, value],
        };
        var (exitCode, _, errors) = CommandLine.Run(args);
        Assert.Equal(2, exitCode);
        Assert.Equal($"ringactors: error: {message}{Environment.NewLine}", errors);
    }

    [Fact]
    public void Plan_compare_must_read_a_hocon_cluster_file()
    {
        var path = Path.Combine(_directory, "cluster.conf");
        File.WriteAllText(path, "name = lab\ndevice = a100-nvlink\nnodes = 2\ndevicesPerNode = 4\nintraBandwidth = 300e9\nnicBandwidth = 12.5e9\nnic = per-node\nsource = \"our lab\"\n");
        var json = Path.Combine(_directory, "lab.json");
        var (exitCode, output, errors) = CommandLine.Run("plan", "--compare", "--cluster-file", path, "--seq", "16384", "--json", json);
        Assert.Equal(string.Empty, errors);
        Assert.Equal(0, exitCode);
        Assert.Contains("our lab", output);
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var cluster = document.RootElement.GetProperty("cluster");
        Assert.Equal(2, cluster.GetProperty("nodes").GetInt32());
        Assert.Equal("per-node", cluster.GetProperty("nic").GetString());
    }

    [Theory]
    [InlineData("plan", "--seq", "8192", "--layout", "contiguous")]
    [InlineData("plan", "--compare", "--cluster", "dgx-h100", "--seq", "8192")]
    [InlineData("plan", "--strategy", "usp", "--ulysses-degree", "2", "--cluster", "dgx-h100", "--seq", "8192", "--model", "llama3-8b", "--training")]
    public void Plan_trace_must_follow_the_chrome_trace_event_format(params string[] args)
    {
        var path = Path.Combine(_directory, "trace.json");
        var (exitCode, _, errors) = CommandLine.Run([.. args, "--trace", path]);
        Assert.Equal(string.Empty, errors);
        Assert.Equal(0, exitCode);

        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var events = document.RootElement.GetProperty("traceEvents").EnumerateArray().ToList();
        Assert.NotEmpty(events);
        Assert.All(events, e => Assert.Contains(e.GetProperty("ph").GetString(), new[] { "X", "M", "i" }));
        var devices = new HashSet<int>();
        var lanes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in TraceSpec.CompleteEvents(document))
        {
            Assert.True(e.GetProperty("ts").GetDouble() >= 0, e.ToString());
            devices.Add(e.GetProperty("pid").GetInt32());
            lanes.Add(e.GetProperty("tid").GetInt32() switch { 0 => "compute", 1 => "send", 2 => "receive", var t => $"lane {t}" });
        }

        Assert.Equal(8, devices.Count);
        Assert.Equal(new HashSet<string> { "compute", "send", "receive" }, lanes);
        Assert.Contains(events, e => e.GetProperty("ph").GetString() == "X" && e.GetProperty("name").GetString() == "idle");
    }

    [Fact]
    public void Plan_must_refuse_a_trace_that_is_not_json()
    {
        var (exitCode, _, errors) = CommandLine.Run("plan", "--trace", "out.txt");
        Assert.Equal(2, exitCode);
        Assert.Equal("ringactors: error: --trace must name a .json file, got 'out.txt'" + Environment.NewLine, errors);
    }
}
