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
