using System.Globalization;
using System.Text.Json;
using RingActors.Host.Commands;
using RingActors.Host.Plots;
using RingActors.Host.Tests.Plots;
using RingActors.Math;
using RingActors.Math.Modelling;

namespace RingActors.Host.Tests;

public sealed class PlanCommandSpec : IDisposable
{
    private static readonly string[] RequiredJsonKeys = ["minBlockSize", "minSeqPerDevice", "predictedSeconds", "overlap", "memoryPerDeviceBytes"];

    private readonly string _directory = Directory.CreateTempSubdirectory("ringactors-plan-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Plan_must_work_with_its_defaults_and_print_the_block_size()
    {
        var (exitCode, output, errors) = CommandLine.Run("plan");
        Assert.Equal(string.Empty, errors);
        Assert.Equal(0, exitCode);
        Assert.Contains(PlanCommand.DefaultProfile, output);
        Assert.Contains(ProfileCatalog.Get(PlanCommand.DefaultProfile).Source, output);

        // a100-nvlink, bf16, 32 heads over 8 K/V heads: c = (2/2)·(8/32)·312e12/300e9 = 260; the paper's F/B = 1,040; 6·c = 1,560.
        Assert.Contains("minimal block size c", output);
        Assert.Contains("260 tokens", output);
        Assert.Contains("1,040 tokens", output);
        Assert.Contains("1,560 tokens", output);
        Assert.Contains("predicted time, whole pass", output);
        Assert.Contains("dense (vanilla)", output);
        Assert.Contains("blockwise (BPT)", output);
        Assert.Contains("memory-efficient", output);
        Assert.Contains("imbalance", output);
        Assert.DoesNotContain("NaN", output);
    }

    [Fact]
    public void Plan_help_must_list_every_option()
    {
        var (exitCode, output, errors) = CommandLine.Run("plan", "--help");
        Assert.Equal(string.Empty, errors);
        Assert.Equal(0, exitCode);
        // Whole options, one per line of the list: a substring check would find "--profile" inside "--profile-file".
        var declared = CommandLine.DeclaredOptions(output);
        Assert.Subset(declared, new HashSet<string>(StringComparer.Ordinal)
        {
            "--profile", "--profile-file", "--flops", "--bandwidth", "--latency", "--memory", "--efficiency", "--devices", "--seq",
            "--batch", "--heads", "--kv-heads", "--dim", "--dtype", "--layout", "--causal", "--no-causal", "--json", "--timeline", "--actors", "--table",
            "--trace", "--compare", "--strategy", "--cluster", "--cluster-file", "--nodes", "--devices-per-node", "--intra-bandwidth", "--nic-bandwidth",
            "--nic", "--tp", "--kv-heads-per-step", "--ulysses-degree", "--model", "--layers", "--hidden", "--ffn", "--fp8-ffn", "--training", "--gemm-efficiency",
        });

        Assert.Contains("in (0, 1] (default 1)", output);
    }

    [Fact]
    public void Plan_json_must_hold_the_required_keys_with_finite_numbers()
    {
        var path = Path.Combine(_directory, "plan.json");
        var (exitCode, _, errors) = CommandLine.Run("plan", "--profile", "tpu-v4", "--devices", "16", "--seq", "65536", "--layout", "striped", "--json", path);
        Assert.Equal(string.Empty, errors);
        Assert.Equal(0, exitCode);

        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var root = document.RootElement;
        foreach (var key in RequiredJsonKeys)
        {
            Assert.True(root.TryGetProperty(key, out var value), $"missing key {key}");
            Assert.True(double.IsFinite(value.GetDouble()), $"{key} = {value}");
        }

        Assert.True(root.GetProperty("fits").GetBoolean());
        Assert.Equal("tpu-v4", root.GetProperty("profile").GetProperty("name").GetString());
        Assert.Equal(16, root.GetProperty("request").GetProperty("devices").GetInt32());
        var expected = RingPlanner.Plan(new PlanRequest(ProfileCatalog.Get("tpu-v4"), 16, 65536, 32, 8, 128, ElementType.Bf16, LayoutKind.Striped, Causal: true, RecordTimeline: false));
        Assert.Equal(expected.MinBlockSize, root.GetProperty("minBlockSize").GetDouble());
        Assert.Equal(expected.PredictedSeconds, root.GetProperty("predictedSeconds").GetDouble());
        Assert.Equal(expected.MemoryPerDeviceBytes, root.GetProperty("memoryPerDeviceBytes").GetDouble());
    }

    [Fact]
    public void Plan_table_must_print_every_row_of_the_papers_table_2_within_the_tolerance()
    {
        var (exitCode, output, errors) = CommandLine.Run("plan", "--table");
        Assert.Equal(string.Empty, errors);
        Assert.Equal(0, exitCode);
        var lines = output.Split('\n');
        var rows = RingCostModel.Table2();
        Assert.Equal(5, rows.Count);
        foreach (var row in rows)
        {
            var line = Assert.Single(lines, l => l.Contains($" {row.Profile} ", StringComparison.Ordinal));
            Assert.Contains(row.MinBlockK.ToString("F3", CultureInfo.InvariantCulture), line);
            Assert.Contains(row.MinSeqK.ToString("F3", CultureInfo.InvariantCulture), line);
            Assert.Contains(Reporting.PlanTables.Deviation(row.MinSeqK, row.PrintedMinSeqK), line);

            // The tolerance of the Math spec: s within 2%; c within 2% or equal to the printed value once rounded to one decimal.
            Assert.True(System.Math.Abs(row.MinSeqK / row.PrintedMinSeqK - 1) <= 0.02, line);
            Assert.True(System.Math.Abs(row.MinBlockK / row.PrintedMinBlockK - 1) <= 0.02
                || System.Math.Round(row.MinBlockK, 1, MidpointRounding.AwayFromZero) == row.PrintedMinBlockK, line);
        }
    }

    [Theory]
    [InlineData("--bandwidth must be finite and > 0, got 0", "plan", "--flops", "1e12", "--bandwidth", "0", "--memory", "1e9")]
    [InlineData("--flops must be finite and > 0, got -1", "plan", "--flops", "-1", "--bandwidth", "1e9", "--memory", "1e9")]
    [InlineData("--flops must be finite and > 0, got NaN", "plan", "--flops", "NaN", "--bandwidth", "1e9", "--memory", "1e9")]
    [InlineData("--latency must be finite and ≥ 0 seconds, got -1", "plan", "--profile", "tpu-v3", "--latency", "-1")]
    [InlineData("--efficiency must be in (0, 1], got 1.5", "plan", "--profile", "tpu-v3", "--efficiency", "1.5")]
    [InlineData("--memory must be finite and > 0, got 0", "plan", "--flops", "1e12", "--bandwidth", "1e9", "--memory", "0")]
    [InlineData("a custom profile needs --flops, --bandwidth and --memory (missing --memory)", "plan", "--flops", "1e12", "--bandwidth", "1e9")]
    [InlineData("unknown profile 'a100-pcie': known profiles are a100-nvlink", "plan", "--profile", "a100-pcie")]
    [InlineData("give either --profile or --profile-file, not both", "plan", "--profile", "tpu-v3", "--profile-file", "x.json")]
    [InlineData("profile file /nonexistent/ringactors/profile.json does not exist", "plan", "--profile-file", "/nonexistent/ringactors/profile.json")]
    [InlineData("profile file /nonexistent/ringactors/profile.conf does not exist", "plan", "--profile-file", "/nonexistent/ringactors/profile.conf")]
    [InlineData("/ is a directory, not a profile file", "plan", "--profile-file", "/")]
    [InlineData("unknown layout 'spiral': expected one of contiguous, striped, zigzag", "plan", "--layout", "spiral")]
    [InlineData("unknown dtype 'int8': expected bf16, fp16 or fp32", "plan", "--dtype", "int8")]
    [InlineData("heads (6) must be a multiple of kv-heads (4)", "plan", "--heads", "6", "--kv-heads", "4")]
    [InlineData("devices (9) must not exceed the sequence length (8)", "plan", "--devices", "9", "--seq", "8")]
    [InlineData("--causal and --no-causal contradict each other", "plan", "--causal", "--no-causal")]
    [InlineData("--timeline must name a .png or .svg file, got 'ring.pdf'", "plan", "--timeline", "ring.pdf")]
    public void Bad_input_must_give_one_line_and_exit_code_2(string expected, params string[] args)
    {
        var (exitCode, _, errors) = CommandLine.Run(args);
        Assert.Equal(2, exitCode);
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("ringactors: error: ", line);
        Assert.Contains(expected, line);
        Assert.DoesNotContain("   at ", errors);
    }

    [Theory]
    [InlineData("{\"peakFlops\": 1e12, \"linkBandwidth\": 0, \"memoryBytes\": 1e9}", "bad.json", "LinkBandwidth must be finite and > 0, got 0")]
    [InlineData("peakFlops = -1e12\nlinkBandwidth = 1e9\nmemoryBytes = 1e9", "bad.conf", "PeakFlops must be finite and > 0, got -1E+12")]
    [InlineData("peakFlops = 1e12\nlinkBandwidth = NaN\nmemoryBytes = 1e9", "nan.conf", "field 'linkBandwidth' must be a finite number, got NaN")]
    [InlineData("{\"peakFlops\": 1e12,", "truncated.json", "not valid JSON")]
    [InlineData("peakFlops = 1e12\nlinkBandwidth = 1e9", "partial.conf", "required field 'memoryBytes' is missing")]
    public void Bad_profile_files_must_give_one_line_naming_the_file(string content, string name, string expected)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        var (exitCode, _, errors) = CommandLine.Run("plan", "--profile-file", path);
        Assert.Equal(2, exitCode);
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(path, line);
        Assert.Contains(expected, line);
    }

    [Fact]
    public void Plan_must_take_a_custom_profile_from_flags_and_let_flags_override_a_named_one()
    {
        var (exitCode, output, errors) = CommandLine.Run("plan", "--flops", "1e15", "--bandwidth", "1e11", "--latency", "1e-6", "--memory", "1e10", "--efficiency", "0.5");
        Assert.Equal(string.Empty, errors);
        Assert.Equal(0, exitCode);
        Assert.Contains("custom: peak 1 PFLOP/s × efficiency 0.5 = 500 TFLOP/s", output);
        Assert.Contains("link 100 GB/s", output);
        Assert.Contains("given on the command line", output);

        (exitCode, output, errors) = CommandLine.Run("plan", "--profile", "h100-infiniband", "--efficiency", "0.5");
        Assert.Equal(string.Empty, errors);
        Assert.Equal(0, exitCode);
        Assert.Contains("h100-infiniband: peak 989 TFLOP/s × efficiency 0.5", output);
        Assert.Contains("overridden on the command line: --efficiency 0.5", output);
    }

    [Theory]
    [InlineData("example-profile.conf")]
    [InlineData("example-profile.json")]
    public void Plan_must_read_the_example_profile_files(string name)
    {
        var path = Path.Combine(RepositoryRoot(), "hocon", "profiles", name);
        var (exitCode, output, errors) = CommandLine.Run("plan", "--profile-file", path);
        Assert.Equal(string.Empty, errors);
        Assert.Equal(0, exitCode);
        Assert.Contains("h100-pcie-ib: peak 756 TFLOP/s × efficiency 0.6 = 453.6 TFLOP/s", output);
    }

    [Theory]
    [InlineData("example-cluster.conf")]
    [InlineData("example-cluster.json")]
    public void Plan_compare_must_read_the_example_cluster_files(string name)
    {
        var path = Path.Combine(RepositoryRoot(), "hocon", "profiles", name);
        var (exitCode, output, errors) = CommandLine.Run("plan", "--compare", "--cluster-file", path, "--seq", "65536");
        Assert.Equal(string.Empty, errors);
        Assert.Equal(0, exitCode);
        Assert.Contains("l20-pcie: 2 node(s) × 8 = 16 devices; device custom 119.5 TFLOP/s × 0.6 (attention)", output);
        Assert.Contains("NIC 12.5 GB/s per node", output);
    }

    [Fact]
    public void Plan_local_must_say_what_it_measured()
    {
        var (exitCode, output, errors) = CommandLine.Run("plan", "--profile", "local", "--devices", "2", "--seq", "4096", "--heads", "2", "--kv-heads", "1", "--dim", "64");
        Assert.Equal(string.Empty, errors);
        Assert.Equal(0, exitCode);
        Assert.Contains("measured now: one kernel thread", output);
        Assert.Contains($"2 device(s) share {Environment.ProcessorCount} core(s)", output);
        Assert.Contains("in-process hand-off", output);
    }

    [Theory]
    [InlineData("ring.png")]
    [InlineData("ring.svg")]
    public void Plan_timeline_must_write_the_chart(string name)
    {
        var path = Path.Combine(_directory, name);
        var (exitCode, output, errors) = CommandLine.Run("plan", "--profile", "a100-infiniband", "--devices", "4", "--seq", "8192", "--layout", "contiguous", "--timeline", path);
        Assert.Equal(string.Empty, errors);
        Assert.Equal(0, exitCode);
        Assert.Contains("timeline written to", output);
        TimelinePlotSpec.AssertImage(path);
    }

    [Fact]
    public void Plan_timeline_of_1024_devices_must_draw_within_the_row_cap()
    {
        var path = Path.Combine(_directory, "large.png");
        var (exitCode, output, errors) = CommandLine.Run("plan", "--profile", "tpu-v4", "--devices", "1024", "--seq", "16384", "--timeline", path);
        Assert.Equal(string.Empty, errors);
        Assert.Equal(0, exitCode);
        Assert.Contains($"first and last {TimelinePlot.MaxRows / 2} of 1,024 devices drawn", output);
        TimelinePlotSpec.AssertImage(path);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "RingActors.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no RingActors.sln above {AppContext.BaseDirectory}");
    }
}
