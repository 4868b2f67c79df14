using System.Text.Json;
using Xunit.Abstractions;

namespace RingActors.Host.Tests.Cluster;

/// <summary>
/// <c>experiment --cluster</c> with <c>crash-node</c> against three <c>ringactors node --role device</c> processes: node 1's
/// agent kills its own process (SIGKILL) when device 1 reaches step 1, the coordinator re-creates device 1 on a survivor, and
/// the trial's output equals dense attention; the node processes are always killed.
/// </summary>
[Collection(MultiProcessCollection.Name)]
[Trait("Category", "MultiProcess")]
public sealed class ClusterExperimentSpec(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _directory = Directory.CreateTempSubdirectory("ring-cluster-experiment").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Experiment_cluster_must_recover_from_a_killed_node_process_with_an_exact_output()
    {
        using var cluster = await DeviceNodes.StartAsync(3, Timeout, output);
        var seed = cluster.Seed;
        var json = Path.Combine(_directory, "experiment.json");

        // Device 1 is slowed so that its node dies while the ring still needs it. The factor stretches the measured compute
        // time, and a fresh node's first block includes its JIT (tens of ms): ×1000 made that first block outlast the deadline.
        var (exitCode, text, errors) = CommandLine.Run(
            "experiment", "--cluster", "--seed", seed, "--devices", "3", "--device-nodes", "3", "--seq", "1024", "--heads", "4", "--kv-heads", "2",
            "--dim", "64", "--ring-pattern", "bigbird:64:1:1", "--fault", "crash-node:1@1", "--fault", "slow-device:1*100", "--deadline", "60", "--json", json);
        output.WriteLine(text + errors);
        Assert.Equal(0, exitCode);

        using var report = JsonDocument.Parse(File.ReadAllText(json));
        var trial = report.RootElement.GetProperty("trials")[0];
        Assert.True(trial.GetProperty("exact").GetBoolean());
        Assert.Equal(1, trial.GetProperty("restarts").GetInt32());
    }

    /// <summary>
    /// The run that failed every trial before (issue 9): a re-created device lost the ring pattern on its way to its node,
    /// and the console filled with stack traces. Now the re-created device is built by the same factory as the first.
    /// </summary>
    [Fact]
    public async Task Experiment_cluster_must_recover_a_killed_device_with_a_ring_pattern_and_print_no_stack_trace()
    {
        using var cluster = await DeviceNodes.StartAsync(3, Timeout, output);
        var json = Path.Combine(_directory, "kill.json");

        var (exitCode, text, errors) = CommandLine.Run(
            "experiment", "--cluster", "--seed", cluster.Seed, "--devices", "3", "--device-nodes", "3", "--seq", "1536", "--heads", "2",
            "--kv-heads", "2", "--dim", "32", "--ring-pattern", "causal-window:256", "--fault", "kill-device:1@1", "--trials", "2", "--deadline", "30", "--json", json);
        output.WriteLine(text + errors);

        Assert.Equal(0, exitCode);
        Assert.DoesNotContain("   at ", text + errors, StringComparison.Ordinal);
        using var report = JsonDocument.Parse(File.ReadAllText(json));
        Assert.All(report.RootElement.GetProperty("trials").EnumerateArray(), trial =>
        {
            Assert.True(trial.GetProperty("exact").GetBoolean());
            Assert.Equal(1, trial.GetProperty("restarts").GetInt32());
        });
    }
}
