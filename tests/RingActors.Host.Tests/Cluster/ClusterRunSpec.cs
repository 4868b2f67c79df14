using System.Text.Json;
using RingActors.Math;
using RingActors.Math.IO;
using Xunit.Abstractions;

namespace RingActors.Host.Tests.Cluster;

/// <summary>
/// <c>run --cluster</c> against three <c>ringactors node --role device</c> processes on 127.0.0.1: the job's output (--out)
/// equals the float64 oracle, the JSON names the nodes and the bytes that crossed; then <c>run --cluster --backward</c> on
/// the same nodes writes dQ, dK and dV equal to the float64 oracle. The node processes are always killed.
/// </summary>
[Collection(MultiProcessCollection.Name)]
[Trait("Category", "MultiProcess")]
public sealed class ClusterRunSpec(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    // A job of a second or two: a lost message the watchdog cannot heal fails it with its one-line reason, not at 10 minutes.
    private const string JobDeadline = "30";
    private readonly string _directory = Directory.CreateTempSubdirectory("ring-cluster-run").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Run_cluster_must_run_the_ring_on_three_node_processes_and_equal_the_oracle()
    {
        using var cluster = await DeviceNodes.StartAsync(3, Timeout, output);
        var seed = cluster.Seed;
        var json = Path.Combine(_directory, "report.json");
        var outPath = Path.Combine(_directory, "out.npy");
        var trace = Path.Combine(_directory, "trace.json");
        var (exitCode, text, errors) = CommandLine.Run(
            "run", "--cluster", "--seed", seed, "--devices", "3", "--device-nodes", "3", "--seq", "257", "--heads", "2", "--kv-heads", "1",
            "--dim", "16", "--seed", "5", "--pattern", "none", "--no-scaling", "--deadline", JobDeadline, "--json", json, "--out", outPath, "--trace", trace);
        output.WriteLine(text + errors);
        Assert.Equal(0, exitCode);

        var input = AttentionInput.Random(new AttentionShape(1, 2, 1, 257, 16), 5);
        var (expected, _) = ReferenceAttention.Compute(input, new AttentionOptions(Causal: true));
        var (data, _) = NpyFile.Read(outPath);
        Assert.True(ErrorMetrics.Compare(data, expected).RelativeError < 1e-5);

        using (var report = JsonDocument.Parse(File.ReadAllText(json)))
        {
            Assert.Equal(3, report.RootElement.GetProperty("nodes").GetArrayLength());
            Assert.Equal(3, report.RootElement.GetProperty("placement").GetArrayLength());
            Assert.True(report.RootElement.GetProperty("networkBytes").GetInt64() > 257 * 16 * 4);
        }

        TraceSpec.AssertCoordinatorClockTrace(trace, devices: 3);

        await RunBackwardOnTheSameNodes(seed);
    }

    /// <summary>
    /// <c>run --cluster --backward</c> on .npy files, on the nodes of the forward job above: the dQ, dK and dV it writes equal
    /// the float64 oracle, and the backward's hand-offs and contributions crossed between the node processes.
    /// </summary>
    private async Task RunBackwardOnTheSameNodes(string seed)
    {
        var shape = new AttentionShape(1, 2, 1, 97, 8);
        var input = AttentionInput.Random(shape, seed: 21);
        var outputGradient = AttentionInput.Random(shape, seed: 22).Q;
        string Npy(string name, float[] data, int[] dims)
        {
            var path = Path.Combine(_directory, name);
            NpyFile.Write(path, data, dims);
            return path;
        }

        var (q, k, v, dO) = (Npy("q.npy", input.Q, [2, 97, 8]), Npy("k.npy", input.K, [1, 97, 8]), Npy("v.npy", input.V, [1, 97, 8]), Npy("do.npy", outputGradient, [2, 97, 8]));
        var (dq, dk, dv) = (Path.Combine(_directory, "dq.npy"), Path.Combine(_directory, "dk.npy"), Path.Combine(_directory, "dv.npy"));
        var json = Path.Combine(_directory, "backward.json");
        var (exitCode, text, errors) = await Task.Run(() => CommandLine.Run(
            "run", "--cluster", "--seed", seed, "--devices", "3", "--device-nodes", "3", "--q", q, "--k", k, "--v", v, "--causal",
            "--layout", "zigzag", "--pattern", "none", "--no-scaling", "--deadline", JobDeadline, "--backward", "--grad-out", dO,
            "--dq", dq, "--dk", dk, "--dv", dv, "--json", json));
        output.WriteLine(text + errors);
        Assert.Equal(0, exitCode);

        var (expectedQ, expectedK, expectedV) = ReferenceBackward.Compute(input, outputGradient, new AttentionOptions(Causal: true));
        foreach (var (path, expected) in new[] { (dq, expectedQ), (dk, expectedK), (dv, expectedV) })
        {
            Assert.InRange(ErrorMetrics.Compare(NpyFile.Read(path).Data, expected).RelativeError, 0, 1e-5);
        }

        using var report = JsonDocument.Parse(File.ReadAllText(json));
        var backward = report.RootElement.GetProperty("backward");
        Assert.Equal(3 * 2, backward.GetProperty("contributionsSent").GetInt32());
        Assert.True(backward.GetProperty("devices").EnumerateArray().All(d => d.GetProperty("stats").GetProperty("networkBytesSent").GetInt64() > 0), "every device's backward traffic crosses between node processes");
    }

    [Fact]
    public void Run_cluster_must_give_up_with_one_line_when_no_seed_answers_within_the_up_timeout()
    {
        var seed = $"akka.tcp://ring@127.0.0.1:{NodeProcess.FreePort()}";
        var (exitCode, text, errors) = CommandLine.Run("run", "--cluster", "--seed", seed, "--up-timeout", "2", "--seq", "64");
        output.WriteLine(text + errors);

        Assert.Equal(2, exitCode);
        Assert.Equal(
            $"ringactors: error: cannot join the cluster: no seed answered within 2 s ({seed}); start the seed node first, or wait longer with --up-timeout",
            Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries)).TrimEnd('\r'));
    }
}
