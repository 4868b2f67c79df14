using System.Text.Json;

namespace RingActors.Host.Tests;

/// <summary>--trace on run and experiment: the Chrome trace event format's required fields, one process per device.</summary>
public sealed class TraceSpec : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ringactors-trace-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("run", "--seq", "64", "--heads", "2", "--kv-heads", "1", "--dim", "8", "--devices", "4", "--layout", "contiguous", "--pattern", "none", "--no-scaling")]
    [InlineData("run", "--seq", "64", "--heads", "2", "--kv-heads", "1", "--dim", "8", "--devices", "4", "--pattern", "none", "--no-scaling", "--profile", "a100-infiniband")]
    [InlineData("experiment", "--seq", "64", "--heads", "2", "--kv-heads", "1", "--dim", "8", "--devices", "4", "--fault", "duplicate:0.3")]
    public void Trace_must_hold_one_process_per_device_with_the_required_fields(params string[] args)
    {
        var path = Path.Combine(_directory, "trace.json");
        var (exitCode, output, errors) = CommandLine.Run([.. args, "--trace", path]);
        Assert.True(exitCode == 0, errors + output);

        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var spans = CompleteEvents(document);

        Assert.Equal([0, 1, 2, 3], spans.Select(e => e.GetProperty("pid").GetInt32()).Distinct().Order());
        Assert.Contains(spans, e => e.GetProperty("name").GetString() == "compute");
        Assert.Contains(spans, e => e.GetProperty("name").GetString() == "receive");
        Assert.Contains(spans, e => e.GetProperty("name").GetString() == "send");
    }

    [Fact]
    public void Experiment_must_mark_its_faults_on_the_trace_and_the_timeline()
    {
        var trace = Path.Combine(_directory, "faults.json");
        var chart = Path.Combine(_directory, "faults.png");
        var (exitCode, output, errors) = CommandLine.Run("experiment", "--seq", "64", "--heads", "2", "--kv-heads", "1", "--dim", "8", "--devices", "4",
            "--fault", "drop:0.5", "--retries", "20", "--ack-timeout", "40", "--trace", trace, "--timeline", chart);
        Assert.True(exitCode == 0, errors + output);

        using var document = JsonDocument.Parse(File.ReadAllText(trace));
        var fault = Assert.Single(document.RootElement.GetProperty("traceEvents").EnumerateArray(), e => e.GetProperty("ph").GetString() == "i");
        Assert.StartsWith("drop:0.5 ×", fault.GetProperty("name").GetString());
        Assert.Equal("g", fault.GetProperty("s").GetString()); // a drop on every link: global
        Assert.True(fault.GetProperty("ts").GetDouble() > 0);

        // Its recovery: a complete event from the fault to the moment the ring had recovered (drops are retransmitted).
        var recovery = Assert.Single(document.RootElement.GetProperty("traceEvents").EnumerateArray(), e => e.TryGetProperty("cat", out var cat) && cat.GetString() == "recovery");
        Assert.Equal("X", recovery.GetProperty("ph").GetString());
        Assert.Equal(fault.GetProperty("ts").GetDouble(), recovery.GetProperty("ts").GetDouble());
        Assert.True(recovery.GetProperty("dur").GetDouble() > 0);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(chart)[..4]);
    }

    [Fact]
    public void Experiment_must_mark_a_slow_devices_span_of_slowed_compute()
    {
        var trace = Path.Combine(_directory, "slow.json");
        var chart = Path.Combine(_directory, "slow.svg");
        var (exitCode, output, errors) = CommandLine.Run("experiment", "--seq", "64", "--heads", "2", "--kv-heads", "1", "--dim", "8", "--devices", "4",
            "--fault", "slow-device:2*3", "--trace", trace, "--timeline", chart);
        Assert.True(exitCode == 0, errors + output);

        using var document = JsonDocument.Parse(File.ReadAllText(trace));
        var events = document.RootElement.GetProperty("traceEvents").EnumerateArray().ToList();
        var slowed = Assert.Single(events, e => e.TryGetProperty("cat", out var cat) && cat.GetString() == "slowed");
        Assert.Equal("X", slowed.GetProperty("ph").GetString());
        Assert.Equal(2, slowed.GetProperty("pid").GetInt32());
        Assert.StartsWith("slowed: slow-device:2*3", slowed.GetProperty("name").GetString());

        // The span covers every compute of device 2, from its first to its last (within a microsecond of rounding).
        var computes = events.Where(e => e.GetProperty("name").GetString() == "compute" && e.GetProperty("pid").GetInt32() == 2).ToList();
        var start = slowed.GetProperty("ts").GetDouble();
        var end = start + slowed.GetProperty("dur").GetDouble();
        Assert.Equal(computes.Min(e => e.GetProperty("ts").GetDouble()), start, 1e-3);
        Assert.Equal(computes.Max(e => e.GetProperty("ts").GetDouble() + e.GetProperty("dur").GetDouble()), end, 1e-3);
        Assert.Contains("slowed compute", File.ReadAllText(chart), StringComparison.Ordinal);
    }

    [Fact]
    public void Experiment_must_draw_a_killed_devices_lost_work_and_its_successors_on_one_track()
    {
        var trace = Path.Combine(_directory, "kill.json");
        var chart = Path.Combine(_directory, "kill.png");
        var (exitCode, output, errors) = CommandLine.Run("experiment", "--seq", "64", "--heads", "2", "--kv-heads", "1", "--dim", "8", "--devices", "4",
            "--layout", "contiguous", "--no-causal", "--fault", "kill-device:1@2", "--trace", trace, "--timeline", chart);
        Assert.True(exitCode == 0, errors + output);
        Assert.Contains("timeline of the last trial written to", output, StringComparison.Ordinal);

        using var document = JsonDocument.Parse(File.ReadAllText(trace));
        var events = document.RootElement.GetProperty("traceEvents").EnumerateArray().ToList();
        var kill = Assert.Single(events, e => e.GetProperty("ph").GetString() == "i");
        Assert.Equal(1, kill.GetProperty("pid").GetInt32());
        var killedAt = kill.GetProperty("ts").GetDouble();
        var steps = events.Where(e => e.GetProperty("name").GetString() == "compute" && e.GetProperty("pid").GetInt32() == 1)
            .Select(e => (Start: e.GetProperty("ts").GetDouble(), End: e.GetProperty("ts").GetDouble() + e.GetProperty("dur").GetDouble(), Step: e.GetProperty("args").GetProperty("step").GetInt32()))
            .ToList();

        // The lost incarnation's steps 0 and 1 before the kill, then the re-created device's four, all on device 1's track.
        Assert.Equal([0, 1], steps.Where(s => s.End <= killedAt).Select(s => s.Step));
        Assert.Equal([0, 1, 2, 3], steps.Where(s => s.Start >= killedAt).Select(s => s.Step));
        Assert.Single(events, e => e.TryGetProperty("cat", out var cat) && cat.GetString() == "recovery" && e.GetProperty("pid").GetInt32() == 1);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(chart)[..4]);
    }

    /// <summary>
    /// Checks every event of a trace for the fields the Chrome trace event format requires (name, ph, ts, pid, tid) and every
    /// complete event ("X") for a positive dur; returns the complete events.
    /// </summary>
    internal static List<JsonElement> CompleteEvents(JsonDocument document)
    {
        var spans = new List<JsonElement>();
        foreach (var e in document.RootElement.GetProperty("traceEvents").EnumerateArray())
        {
            foreach (var key in new[] { "name", "ph", "ts", "pid", "tid" })
            {
                Assert.True(e.TryGetProperty(key, out _), $"an event lacks {key}: {e}");
            }

            if (e.GetProperty("ph").GetString() == "X")
            {
                Assert.True(e.GetProperty("dur").GetDouble() > 0, e.ToString());
                spans.Add(e);
            }
        }

        return spans;
    }

    /// <summary>
    /// A cluster run's trace: the required fields, every device's compute on its own track, times on the coordinator's clock
    /// (within the ring's span), and metadata saying how each node's clock was aligned.
    /// </summary>
    internal static void AssertCoordinatorClockTrace(string path, int devices)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var clock = document.RootElement.GetProperty("otherData").GetProperty("clock").GetString();
        Assert.StartsWith("wall clock of the coordinator", clock, StringComparison.Ordinal);
        Assert.Contains("round trip of its start order", clock, StringComparison.Ordinal);
        var alignments = document.RootElement.GetProperty("otherData").GetProperty("clockAlignment").EnumerateArray().ToList();
        Assert.Equal(devices, alignments.Count);
        Assert.All(alignments, a => Assert.True(a.GetProperty("uncertaintySeconds").GetDouble() < 1, a.ToString()));

        var spans = CompleteEvents(document);

        Assert.Equal(Enumerable.Range(0, devices), spans.Where(e => e.GetProperty("name").GetString() == "compute").Select(e => e.GetProperty("pid").GetInt32()).Distinct().Order());
        var slack = alignments.Max(a => a.GetProperty("uncertaintySeconds").GetDouble()) * 1e6;
        var end = spans.Max(e => e.GetProperty("ts").GetDouble() + e.GetProperty("dur").GetDouble());
        Assert.All(spans, e => Assert.InRange(e.GetProperty("ts").GetDouble(), -slack, end));
    }

    [Theory]
    [InlineData("run")]
    [InlineData("experiment", "--fault", "duplicate:0.3")]
    public void Trace_must_name_a_json_file(params string[] args)
    {
        var (exitCode, _, errors) = CommandLine.Run([.. args, "--trace", "trace.txt"]);
        Assert.Equal(2, exitCode);
        Assert.Equal("ringactors: error: --trace must name a .json file, got 'trace.txt'" + Environment.NewLine, errors);
    }
}
