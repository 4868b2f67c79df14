using System.Text.Json;
using RingActors.Host.Tests.Plots;

namespace RingActors.Host.Tests;

public sealed class RunTimelineSpec : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ringactors-timeline-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Run_timeline_must_draw_the_measured_run_as_a_png()
    {
        var path = Path.Combine(_directory, "run.png");
        var (exitCode, output, errors) = CommandLine.Run(
            "run", "--seq", "61", "--heads", "2", "--kv-heads", "1", "--dim", "8", "--devices", "3", "--pattern", "none", "--no-scaling", "--timeline", path);
        Assert.True(exitCode == 0, errors + output);
        Assert.Contains("timeline (wall clock, this machine) written to", output);
        TimelinePlotSpec.AssertImage(path);
    }

    [Fact]
    public void Run_with_a_profile_must_draw_the_virtual_timeline_and_write_it_in_the_json()
    {
        var path = Path.Combine(_directory, "run.svg");
        var json = Path.Combine(_directory, "run.json");
        var (exitCode, output, errors) = CommandLine.Run(
            "run", "--seq", "64", "--heads", "2", "--kv-heads", "1", "--dim", "8", "--devices", "4", "--layout", "contiguous", "--pattern", "none",
            "--no-scaling", "--profile", "a100-infiniband", "--timeline", path, "--json", json);
        Assert.True(exitCode == 0, errors + output);
        Assert.Contains("virtual clock on a100-infiniband", output);
        Assert.Contains("timeline (virtual clock, a100-infiniband) written to", output);
        TimelinePlotSpec.AssertImage(path);
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var timeline = document.RootElement.GetProperty("timeline");
        Assert.Equal("a100-infiniband", timeline.GetProperty("profile").GetString());
        Assert.True(timeline.GetProperty("virtual").GetProperty("totalSeconds").GetDouble() > 0);
        Assert.True(timeline.GetProperty("measured").GetProperty("totalSeconds").GetDouble() > 0);
    }

    [Fact]
    public void Run_calibrate_must_print_and_write_predicted_vs_measured_with_their_ratio()
    {
        var json = Path.Combine(_directory, "calibrated.json");
        var (exitCode, output, errors) = CommandLine.Run(
            "run", "--seq", "257", "--heads", "2", "--kv-heads", "1", "--dim", "16", "--devices", "2", "--pattern", "none", "--no-scaling", "--calibrate", "--json", json);
        Assert.True(exitCode == 0, errors + output);
        Assert.Contains("predicted / measured", output);
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var lines = document.RootElement.GetProperty("calibration").EnumerateArray().ToList();
        Assert.Equal(["local-run", "local"], lines.Select(l => l.GetProperty("profile").GetString()));
        Assert.All(lines, line =>
        {
            var ratio = line.GetProperty("ratio").GetDouble();
            Assert.True(double.IsFinite(ratio) && ratio > 0, $"ratio {ratio}");
            Assert.Equal(line.GetProperty("predictedSeconds").GetDouble() / line.GetProperty("measuredSeconds").GetDouble(), ratio, 1e-12);
        });

        // Measured is the median of the job's runs taken in turns with the local probe (warmed up: not the job's first run,
        // which also timed the JIT), the same run for both profiles.
        var runs = lines[0].GetProperty("measuredRunSeconds").EnumerateArray().Select(r => r.GetDouble()).ToList();
        Assert.Equal(RingActors.Host.Reporting.PlanLocalProfile.CalibrationRuns, runs.Count);
        Assert.All(runs, r => Assert.True(r > 0));
        var measured = lines[0].GetProperty("measuredSeconds").GetDouble();
        Assert.Equal(runs.Order().ElementAt(runs.Count / 2), measured);
        Assert.Equal(measured, lines[1].GetProperty("measuredSeconds").GetDouble());
        Assert.Equal(runs, lines[1].GetProperty("measuredRunSeconds").EnumerateArray().Select(r => r.GetDouble()));
    }

    [Fact]
    public void Plan_actors_must_give_the_simulator_timeline()
    {
        var (exitCode, output, errors) = CommandLine.Run(
            "plan", "--profile", "a100-infiniband", "--devices", "4", "--seq", "8192", "--heads", "4", "--kv-heads", "2", "--dim", "64", "--layout", "zigzag", "--actors");
        Assert.True(exitCode == 0, errors + output);
        Assert.Contains("actors (phantom tensors, virtual time)", output);
        Assert.Contains("identical", output);
    }

    [Theory]
    [InlineData("--timeline must name a .png or .svg file, got 'ring.pdf'", "run", "--timeline", "ring.pdf")]
    [InlineData("unknown profile 'a100-pcie'", "run", "--seq", "16", "--profile", "a100-pcie")]
    [InlineData("--actors runs at most 256 devices, got 1024", "plan", "--devices", "1024", "--seq", "16384", "--actors")]
    public void Bad_timeline_input_must_give_one_line_and_exit_code_2(string expected, params string[] args)
    {
        var (exitCode, _, errors) = CommandLine.Run(args);
        Assert.Equal(2, exitCode);
        Assert.Contains(expected, errors);
        Assert.Single(errors.Trim().Split('\n'));
    }
}
