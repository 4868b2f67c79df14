using System.Text;
using System.Text.Json;
using RingActors.Math;
using RingActors.Math.IO;

namespace RingActors.Host.Tests;

/// <summary><c>run --backward</c>, <c>experiment --backward</c> and <c>bench precision</c>: gradients from the ring against the float64 oracle.</summary>
public sealed class BackwardRunSpec : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ringactors-bwd-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Run_backward_must_report_dq_dk_dv_exact_against_the_dense_oracle_in_the_json()
    {
        var json = Path.Combine(_directory, "backward.json");
        var (exitCode, output, errors) = CommandLine.Run(
            "run", "--backward", "--seq", "61", "--heads", "4", "--kv-heads", "2", "--dim", "16", "--devices", "3", "--layout", "striped",
            "--pattern", "none", "--threads", "1", "--json", json);

        // With the N/2 scaling runs on (the default): they time the forward only, a dO made for N does not fit N/2.
        Assert.True(exitCode == 0, errors + output);
        Assert.Contains("gradients against the dense float64 oracle (ReferenceBackward)", output, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(System.IO.File.ReadAllText(json));
        var root = document.RootElement;
        Assert.Equal("fp32", root.GetProperty("partialDtype").GetString());
        Assert.True(root.GetProperty("exact").GetBoolean());
        var gradients = root.GetProperty("gradients");
        Assert.Equal("dense float64 oracle (ReferenceBackward)", gradients.GetProperty("reference").GetString());
        Assert.Equal(1e-5, gradients.GetProperty("tolerance").GetDouble());
        Assert.True(gradients.GetProperty("exact").GetBoolean());
        foreach (var (name, rows) in new[] { ("dq", 4 * 61), ("dk", 2 * 61), ("dv", 2 * 61) })
        {
            var gradient = gradients.GetProperty(name);
            Assert.Equal(rows, gradient.GetProperty("rowsChecked").GetInt64());
            Assert.InRange(gradient.GetProperty("relativeError").GetDouble(), 0, 1e-5);
            Assert.InRange(gradient.GetProperty("maxAbsError").GetDouble(), 0, 1e-4);
            Assert.True(gradient.GetProperty("exact").GetBoolean());
        }

        // The backward's own statistics: P − 1 hand-offs per device, P − 1 contributions sent home, P summed at each home.
        var backward = root.GetProperty("backward");
        Assert.True(backward.GetProperty("ringSeconds").GetDouble() > 0);
        Assert.Equal(3 * 2, backward.GetProperty("handOffs").GetInt32());
        Assert.Equal(3 * 2, backward.GetProperty("contributionsSent").GetInt32());
        Assert.Equal(3 * 3, backward.GetProperty("contributionsSummed").GetInt32());
        Assert.Equal(3, backward.GetProperty("devices").GetArrayLength());
    }

    [Fact]
    public void Run_backward_on_npy_files_must_write_dq_dk_dv_equal_to_the_float64_oracle_in_the_layouts_of_q_and_k()
    {
        var shape = new AttentionShape(1, 2, 1, 37, 8);
        var input = AttentionInput.Random(shape, seed: 11);
        var outputGradient = AttentionInput.Random(shape, seed: 12).Q;
        // q and dO without a batch dimension ([H,N,d]), k and v with one: dQ follows q, dK and dV follow k.
        var (q, k, v) = (File("q.npy", input.Q, [2, 37, 8]), File("k.npy", input.K, [1, 1, 37, 8]), File("v.npy", input.V, [1, 1, 37, 8]));
        var dO = File("do.npy", outputGradient, [2, 37, 8]);
        var (dq, dk, dv) = (Path.Combine(_directory, "dq.npy"), Path.Combine(_directory, "dk.npy"), Path.Combine(_directory, "dv.npy"));

        var (exitCode, output, errors) = CommandLine.Run(
            "run", "--q", q, "--k", k, "--v", v, "--causal", "--devices", "4", "--pattern", "none", "--no-scaling",
            "--backward", "--grad-out", dO, "--dq", dq, "--dk", dk, "--dv", dv);
        Assert.True(exitCode == 0, errors + output);
        Assert.Contains($"gradients written to {dq}, {dk}, {dv}", output, StringComparison.Ordinal);

        var (expectedQ, expectedK, expectedV) = ReferenceBackward.Compute(input, outputGradient, new AttentionOptions(Causal: true));
        foreach (var (path, expected, fileShape) in new[] { (dq, expectedQ, new[] { 2, 37, 8 }), (dk, expectedK, new[] { 1, 1, 37, 8 }), (dv, expectedV, new[] { 1, 1, 37, 8 }) })
        {
            var (data, actualShape) = NpyFile.Read(path);
            Assert.Equal(fileShape, actualShape);
            Assert.InRange(ErrorMetrics.Compare(data, expected).RelativeError, 0, 1e-5);
        }

        Assert.Empty(Directory.GetFiles(_directory, "*.part*"));
    }

    [Fact]
    public void Bad_backward_files_and_options_must_give_one_line_exit_code_2_and_leave_no_output_file()
    {
        var shape = new AttentionShape(1, 2, 1, 37, 8);
        var input = AttentionInput.Random(shape, seed: 3);
        var (q, k, v) = (File("q.npy", input.Q, [2, 37, 8]), File("k.npy", input.K, [1, 37, 8]), File("v.npy", input.V, [1, 37, 8]));
        var good = File("do.npy", new float[2 * 37 * 8], [2, 37, 8]);
        var wrongShape = File("do-shape.npy", new float[2 * 37 * 9], [2, 37, 9]);
        var withNaN = new float[2 * 37 * 8];
        withNaN[17] = float.NaN;
        var nan = File("do-nan.npy", withNaN, [2, 37, 8]);
        var integers = File("do-int.npy", new float[2 * 37 * 8], [2, 37, 8]);
        var bytes = System.IO.File.ReadAllBytes(integers);
        var descr = Encoding.Latin1.GetString(bytes).IndexOf("<f4", StringComparison.Ordinal);
        bytes[descr + 1] = (byte)'i'; // '<i4': int32, same length
        System.IO.File.WriteAllBytes(integers, bytes);
        var dq = Path.Combine(_directory, "dq.npy");
        string[] files = ["run", "--q", q, "--k", k, "--v", v, "--no-causal", "--devices", "2", "--pattern", "none", "--no-scaling"];

        foreach (var (args, expected) in new (string[], string)[]
        {
            ([.. files, "--backward", "--grad-out", integers, "--dq", dq], "dtype '<i4' is not supported: expected little-endian float32 '<f4' or float64 '<f8'"),
            ([.. files, "--backward", "--grad-out", wrongShape, "--dq", dq], $"--grad-out {wrongShape} has shape [2,37,9]; dO must have q's shape [1,2,37,8]"),
            ([.. files, "--backward", "--grad-out", nan, "--dq", dq], $"--grad-out {nan} holds NaN at element 17: every value of dO must be finite"),
            ([.. files, "--backward", "--grad-out", good, "--dq", Path.Combine(_directory, "no-such-dir", "dq.npy")], "--dq " + Path.Combine(_directory, "no-such-dir", "dq.npy") + " cannot be written: its directory"),
            ([.. files, "--backward", "--grad-out", good, "--dk", _directory], $"--dk {_directory} is a directory"),
            ([.. files, "--backward", "--dq", dq, "--dk", dq], "--dq, --dk must name different files"),
            ([.. files, "--dq", dq], "--dq, --dk and --dv need --backward"),
            ([.. files, "--grad-out", good], "--grad-out needs --backward"),
            ([.. files, "--backward", "--partial-dtype", "fp16"], "--partial-dtype must be fp32 or bf16, got 'fp16'"),
            ([.. files, "--backward", "--dq", dq, "--verify", "none"], "--dq with --verify none would write an output nobody checked"),
        })
        {
            var (exitCode, output, errors) = CommandLine.Run(args);
            Assert.True(exitCode == 2, $"{string.Join(' ', args)}: exit {exitCode}\n{output}\n{errors}");
            var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains(expected, line, StringComparison.Ordinal);
            Assert.StartsWith("ringactors: error: ", line, StringComparison.Ordinal);
            Assert.False(System.IO.File.Exists(dq), string.Join(' ', args));
            Assert.Empty(Directory.GetFiles(_directory, ".*"));
        }
    }

    [Theory]
    [InlineData("--devices must be a list of ring sizes ≥ 1 such as 2,4,8, got '2,x'", "bench", "precision", "--devices", "2,x")]
    [InlineData("--devices 64 exceeds --seq 32", "bench", "precision", "--seq", "32", "--devices", "2,64")]
    [InlineData("--causal and --no-causal contradict each other", "bench", "precision", "--causal", "--no-causal")]
    [InlineData("--grad-out needs --backward", "experiment", "--fault", "drop:0.1", "--grad-out", "do.npy")]
    [InlineData("--partial-dtype must be fp32 or bf16, got 'int8'", "experiment", "--fault", "drop:0.1", "--backward", "--partial-dtype", "int8")]
    public void Bad_bench_precision_and_experiment_backward_options_must_give_one_line_and_exit_code_2(string expected, params string[] args)
    {
        var (exitCode, output, errors) = CommandLine.Run(args);
        Assert.True(exitCode == 2, $"exit {exitCode}\n{output}\n{errors}");
        Assert.Contains(expected, Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Fact]
    public void Bf16_partials_must_err_more_than_fp32_and_stay_within_the_bf16_tolerance()
    {
        var json = Path.Combine(_directory, "precision.json");
        var (exitCode, output, errors) = CommandLine.Run("bench", "precision", "--seq", "128", "--heads", "2", "--kv-heads", "1", "--dim", "16", "--devices", "2,8", "--json", json);
        Assert.True(exitCode == 0, errors + output);
        using var document = JsonDocument.Parse(System.IO.File.ReadAllText(json));
        var rows = document.RootElement.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal([2, 8], rows.Select(r => r.GetProperty("devices").GetInt32()));
        foreach (var row in rows)
        {
            foreach (var tensor in new[] { "output", "dq", "dk", "dv" })
            {
                var fp32 = row.GetProperty("fp32").GetProperty(tensor).GetProperty("relativeError").GetDouble();
                var bf16 = row.GetProperty("bf16").GetProperty(tensor).GetProperty("relativeError").GetDouble();
                Assert.InRange(fp32, 0, 1e-5);
                Assert.True(bf16 > 10 * fp32, $"P={row.GetProperty("devices")} {tensor}: bf16 {bf16} vs fp32 {fp32}");
                Assert.InRange(bf16, 1e-4, tensor == "output" ? 1e-2 : 2e-2);
            }
        }

        // The same ring through run: exact against bf16's own tolerances, and saying so.
        var runJson = Path.Combine(_directory, "bf16.json");
        (exitCode, output, errors) = CommandLine.Run(
            "run", "--backward", "--partial-dtype", "bf16", "--seq", "128", "--heads", "2", "--kv-heads", "1", "--dim", "16", "--devices", "8",
            "--pattern", "none", "--no-scaling", "--json", runJson);
        Assert.True(exitCode == 0, errors + output);
        Assert.Contains("bf16 tolerance", output, StringComparison.Ordinal);
        using var run = JsonDocument.Parse(System.IO.File.ReadAllText(runJson));
        Assert.Equal("bf16", run.RootElement.GetProperty("partialDtype").GetString());
        Assert.True(run.RootElement.GetProperty("exact").GetBoolean());
        Assert.Equal(2e-2, run.RootElement.GetProperty("gradients").GetProperty("tolerance").GetDouble());
    }

    [Fact]
    public void Experiment_backward_must_give_each_trial_its_gradient_errors_under_a_fault_in_the_backward()
    {
        var json = Path.Combine(_directory, "faults.json");
        // P = 3: steps 3..5 are the backward's, so kill-device:1@4 strikes during the backward pass (docs/faults.md).
        var (exitCode, output, errors) = CommandLine.Run(
            "experiment", "--backward", "--seq", "48", "--heads", "2", "--kv-heads", "1", "--dim", "8", "--devices", "3",
            "--fault", "kill-device:1@4", "--fault", "drop:0.1", "--trials", "2", "--json", json);
        Assert.True(exitCode == 0, errors + output);
        Assert.Contains("dQ max abs / rel", output, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(System.IO.File.ReadAllText(json));
        Assert.Equal("dense float64 oracle", document.RootElement.GetProperty("backward").GetProperty("reference").GetString());
        var trials = document.RootElement.GetProperty("trials").EnumerateArray().ToList();
        Assert.Equal(2, trials.Count);
        foreach (var trial in trials)
        {
            Assert.True(trial.GetProperty("exact").GetBoolean());
            foreach (var name in new[] { "dq", "dk", "dv" })
            {
                Assert.InRange(trial.GetProperty("gradients").GetProperty(name).GetProperty("relativeError").GetDouble(), 0, 1e-5);
            }
        }

        Assert.Contains(trials.SelectMany(t => t.GetProperty("faults").EnumerateArray()), f => f.GetProperty("fault").GetString()!.StartsWith("kill-device", StringComparison.Ordinal) && f.GetProperty("occurrences").GetInt64() > 0);
    }

    private string File(string name, float[] data, int[] shape)
    {
        var path = Path.Combine(_directory, name);
        NpyFile.Write(path, data, shape);
        return path;
    }
}
