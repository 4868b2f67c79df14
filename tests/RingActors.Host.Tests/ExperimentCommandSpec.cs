using System.Text.Json;

namespace RingActors.Host.Tests;

public sealed class ExperimentCommandSpec : IDisposable
{
    private static readonly string[] SmallJob = ["--seq", "61", "--heads", "2", "--kv-heads", "1", "--dim", "8", "--devices", "3", "--threads", "1"];

    private readonly string _directory = Directory.CreateTempSubdirectory("ringactors-experiment-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Experiment_must_write_exact_and_maxAbsError_for_every_trial()
    {
        var json = Path.Combine(_directory, "experiment.json");
        var (exitCode, output, errors) = CommandLine.Run(
            ["experiment", .. SmallJob, "--fault", "drop:0.2", "--fault", "kill-device:1@1", "--fault", "duplicate:0.3", "--ack-timeout", "40", "--retries", "20", "--trials", "3", "--json", json]);

        Assert.True(exitCode == 0, errors + output);
        Assert.Contains("3 of 3 outputs equal dense", output, StringComparison.Ordinal);
        Assert.Contains("kill-device:1@1", output, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var trials = document.RootElement.GetProperty("trials");
        Assert.Equal(3, trials.GetArrayLength());
        Assert.All(trials.EnumerateArray(), trial =>
        {
            Assert.True(trial.GetProperty("exact").GetBoolean());
            Assert.True(trial.GetProperty("maxAbsError").GetDouble() < 1e-4);
            Assert.Equal(1, trial.GetProperty("restarts").GetInt32());
            Assert.Contains(trial.GetProperty("faults").EnumerateArray(), f => f.GetProperty("fault").GetString() == "kill-device:1@1");
        });
    }

    [Fact]
    public void Experiment_must_run_a_plan_file()
    {
        var plan = Path.Combine(_directory, "plan.json");
        File.WriteAllText(plan, """{ "faults": { "seed": 5, "ack-timeout": "40ms", "inject": ["delay:2~1", "slow-device:0*2"] } }""");

        var (exitCode, output, errors) = CommandLine.Run(["experiment", .. SmallJob, "--faults", plan]);

        Assert.True(exitCode == 0, errors + output);
        Assert.Contains("faults delay:2~1, slow-device:0*2, seed 5", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Experiment_must_end_an_unrecoverable_plan_with_one_line_and_exit_1()
    {
        var json = Path.Combine(_directory, "failed.json");
        var (exitCode, output, _) = CommandLine.Run(["experiment", .. SmallJob, "--fault", "drop:1", "--retries", "2", "--ack-timeout", "20", "--json", json]);

        Assert.Equal(1, exitCode);
        var last = output.TrimEnd().Split('\n')[^1];
        Assert.StartsWith("ringactors: trial 0 failed: drop:1: the hand-off of device", last, StringComparison.Ordinal);
        Assert.Contains("retries (2) exhausted", last, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        Assert.False(document.RootElement.GetProperty("trials")[0].GetProperty("exact").GetBoolean());
    }

    [Theory]
    [InlineData("crash-node:b@1", "needs a cluster run")]
    [InlineData("partition:b@1+2", "needs a cluster run")]
    [InlineData("kill-device:7@1", "names device 7")]
    [InlineData("drop:2", "fault 'drop:2': probability P must be in [0, 1]")]
    public void Experiment_must_refuse_a_fault_it_cannot_run_in_one_line(string fault, string problem)
    {
        var (exitCode, _, errors) = CommandLine.Run(["experiment", .. SmallJob, "--fault", fault]);

        Assert.Equal(2, exitCode);
        Assert.Contains(problem, errors, StringComparison.Ordinal);
        Assert.Single(errors.TrimEnd().Split('\n'));
    }

    [Fact]
    public void Experiment_must_ask_for_faults()
    {
        var (exitCode, _, errors) = CommandLine.Run(["experiment", .. SmallJob]);

        Assert.Equal(2, exitCode);
        Assert.Contains("--fault KIND:ARGS", errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("experiment", "--fault <KIND:ARGS>", "--devices <P>")]
    [InlineData("run", "--q-npy <FILE>", "--devices <P>")]
    [InlineData("compare", "--pattern <SPEC>", "--block <TOKENS>")]
    public void Help_must_list_the_options_without_tripping_on_brackets(string verb, string option, string another)
    {
        var (exitCode, output, errors) = CommandLine.Run(verb, "--help");

        Assert.True(exitCode == 0, errors + output);
        Assert.Contains(option, output, StringComparison.Ordinal);
        Assert.Contains(another, output, StringComparison.Ordinal);

        // compare runs no ring: it must not offer the ring's options.
        var declared = CommandLine.DeclaredOptions(output);
        Assert.Contains(option.Split(' ')[0], declared);
        Assert.Equal(verb != "compare", declared.Contains("--devices"));
    }
}
