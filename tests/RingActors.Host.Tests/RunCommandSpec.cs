using System.Text;
using System.Text.Json;
using RingActors.Math;
using RingActors.Math.IO;

namespace RingActors.Host.Tests;

public sealed class RunCommandSpec : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ringactors-run-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Run_must_report_the_ring_exact_against_dense_and_write_the_json()
    {
        var json = Path.Combine(_directory, "report.json");
        var (exitCode, output, errors) = CommandLine.Run(
            "run", "--seq", "61", "--heads", "4", "--kv-heads", "2", "--dim", "16", "--devices", "3", "--layout", "striped",
            "--pattern", "window:16", "--threads", "1", "--json", json);
        Assert.True(exitCode == 0, errors + output);
        Assert.Contains("exact (≤ 1e-5 relative", output);
        Assert.StartsWith("running the mask causal, ring of 3 devices", output);
        Assert.Contains("dense vs sparse vs ring", output);
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var root = document.RootElement;
        Assert.Equal("causal", root.GetProperty("mask").GetString());
        Assert.True(root.GetProperty("exact").GetBoolean());
        Assert.Equal(4 * 61, root.GetProperty("verification").GetProperty("rowsChecked").GetInt64());
        Assert.True(root.GetProperty("relativeError").GetDouble() < 1e-5);
        Assert.True(root.GetProperty("maxAbsError").GetDouble() < 1e-4);
        Assert.Equal(3, root.GetProperty("ring").GetProperty("devices").GetInt32());
        Assert.Equal(6, root.GetProperty("ring").GetProperty("handOffs").GetInt32());
        Assert.Equal(3, root.GetProperty("devices").GetArrayLength());
        Assert.Contains(root.GetProperty("baselines").EnumerateArray(), b => b.GetProperty("name").GetString() == "window:16");
    }

    [Fact]
    public void Run_on_npy_files_must_write_an_output_equal_to_the_oracle_in_q_layout()
    {
        var shape = new AttentionShape(1, 2, 1, 37, 8);
        var input = AttentionInput.Random(shape, seed: 9);
        // q without a batch dimension ([H,N,d]); k and v with one: both are accepted, and the output follows q.
        NpyFile.Write(Path.Combine(_directory, "q.npy"), input.Q, [2, 37, 8]);
        NpyFile.Write(Path.Combine(_directory, "k.npy"), input.K, [1, 1, 37, 8]);
        NpyFile.Write(Path.Combine(_directory, "v.npy"), input.V, [1, 1, 37, 8]);
        var outPath = Path.Combine(_directory, "out.npy");
        var (exitCode, output, errors) = CommandLine.Run(
            "run", "--q", Path.Combine(_directory, "q.npy"), "--k", Path.Combine(_directory, "k.npy"), "--v", Path.Combine(_directory, "v.npy"),
            "--devices", "4", "--causal", "--pattern", "none", "--no-scaling", "--out", outPath);
        Assert.True(exitCode == 0, errors + output);
        var (data, fileShape) = NpyFile.Read(outPath);
        Assert.Equal([2, 37, 8], fileShape);
        var (expected, _) = ReferenceAttention.Compute(input, new AttentionOptions(Causal: true));
        Assert.True(ErrorMetrics.Compare(data, expected).RelativeError < 1e-5);
    }

    [Theory]
    [InlineData("devices (9) must not exceed the sequence length (8)", "run", "--seq", "8", "--devices", "9")]
    [InlineData("contiguous", "run", "--layout", "diagonal")]
    [InlineData("--q, --k and --v go together", "run", "--q", "q.npy")]
    [InlineData("--devices must be ≥ 1, got 0", "run", "--devices", "0")]
    [InlineData("--cluster-seed, --placement, --device-nodes and --log need --cluster", "run", "--log", "run.log")]
    [InlineData("--up-timeout must be ≤ 86400 seconds (a day), got 86401", "run", "--cluster", "--seed", "akka.tcp://ring@127.0.0.1:4053", "--up-timeout", "86401")]
    [InlineData("--log file '/no/such/dir/run.log' is in a directory that does not exist", "run", "--cluster", "--seed", "akka.tcp://ring@127.0.0.1:4053", "--log", "/no/such/dir/run.log")]
    [InlineData("--causal and --no-causal contradict each other", "run", "--causal", "--no-causal")]
    [InlineData("--verify must be full, rows:K (K ≥ 1) or none, got 'rows:0'", "run", "--verify", "rows:0")]
    [InlineData("--repeats must be ≥ 3", "run", "--repeats", "2")]
    [InlineData("Unknown option 'block'", "run", "--block", "64")]
    [InlineData("Unknown option 'non-causal'", "run", "--non-causal")]
    public void Bad_run_options_must_give_one_line_and_exit_code_2(string expected, params string[] args)
    {
        var (exitCode, _, errors) = CommandLine.Run(args);
        Assert.Equal(2, exitCode);
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, line);
    }

    [Fact]
    public void Run_must_refuse_a_job_that_cannot_fit_before_making_its_inputs()
    {
        var (exitCode, output, errors) = CommandLine.Run("run", "--seq", "4096", "--memory-limit", "100000000");
        Assert.Equal(2, exitCode);
        Assert.Equal(string.Empty, output);
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("the job needs 0.", line);
        Assert.Contains("(inputs 0.01 GiB, ring 0.04 GiB, reference ", line);
        Assert.Contains("but only 0.09 GiB is available", line);
    }

    [Fact]
    public void Run_must_verify_with_sampled_rows_when_asked_and_name_the_mode()
    {
        var json = Path.Combine(_directory, "rows.json");
        var (exitCode, output, errors) = CommandLine.Run(
            "run", "--seq", "200", "--heads", "2", "--kv-heads", "1", "--dim", "8", "--devices", "4", "--no-causal", "--pattern", "none",
            "--no-scaling", "--verify", "rows:50", "--json", json);
        Assert.True(exitCode == 0, errors + output);
        Assert.StartsWith("running the mask no-causal,", output);
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var verification = document.RootElement.GetProperty("verification");
        Assert.Equal("rows:50", verification.GetProperty("mode").GetString());
        Assert.Equal(50, verification.GetProperty("rowsChecked").GetInt64());
        Assert.Equal("no-causal", document.RootElement.GetProperty("mask").GetString());
    }

    [Fact]
    public void Missing_malformed_and_mismatched_npy_files_must_give_one_line_and_exit_code_2()
    {
        var good = Path.Combine(_directory, "good.npy");
        NpyFile.Write(good, new float[2 * 10 * 4], [2, 10, 4]);
        var other = Path.Combine(_directory, "other.npy");
        NpyFile.Write(other, new float[1 * 12 * 4], [1, 12, 4]);
        var malformed = Path.Combine(_directory, "bad.npy");
        File.WriteAllBytes(malformed, [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 9, 9]);
        var missing = Path.Combine(_directory, "missing.npy");
        foreach (var (files, expected) in new[]
        {
            ((good, good, missing), "missing.npy"),
            ((good, malformed, good), "bad.npy"),
            ((good, other, other), "must agree on batch, sequence length and head dimension"),
            ((good, good, other), "must have the same shape"),
        })
        {
            var (exitCode, _, errors) = CommandLine.Run("run", "--q", files.Item1, "--k", files.Item2, "--v", files.Item3, "--devices", "2", "--no-causal");
            Assert.Equal(2, exitCode);
            var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains(expected, line);
        }
    }

    [Fact]
    public void Out_must_not_be_written_when_the_ring_is_not_exact_unless_keep_inexact_asks()
    {
        var (q, k, v) = IllConditioned();
        var outPath = Path.Combine(_directory, "inexact.npy");
        string[] job = ["run", "--q", q, "--k", k, "--v", v, "--devices", "2", "--no-causal", "--pattern", "none", "--no-scaling", "--verify", "full", "--out", outPath];

        var (exitCode, output, errors) = CommandLine.Run(job);
        Assert.True(exitCode == 1, $"exit {exitCode}\n{output}\n{errors}");
        Assert.Contains("NOT exact", output, StringComparison.Ordinal);
        var refused = Assert.Single(output.Split('\n'), line => line.Contains(outPath, StringComparison.Ordinal));
        Assert.StartsWith($"ring output NOT written to {outPath}: the ring is NOT exact (relative error ", refused, StringComparison.Ordinal);
        Assert.EndsWith("--keep-inexact writes it anyway", refused.TrimEnd(), StringComparison.Ordinal);
        Assert.False(File.Exists(outPath));

        (exitCode, output, errors) = CommandLine.Run([.. job, "--keep-inexact"]);
        Assert.True(exitCode == 1, $"exit {exitCode}\n{output}\n{errors}");
        var kept = Assert.Single(output.Split('\n'), line => line.Contains(outPath, StringComparison.Ordinal));
        Assert.StartsWith($"ring output written to {outPath} although the ring is NOT exact (relative error ", kept, StringComparison.Ordinal);
        Assert.Equal([2, 32, 8], NpyFile.Read(outPath).Shape);
    }

    [Theory]
    [InlineData("--out with --verify none would write an output nobody checked: verify it, or add --keep-inexact", "--verify", "none", "--out", "out.npy")]
    [InlineData("--keep-inexact needs --out", "--keep-inexact")]
    public void Out_options_that_would_write_an_unchecked_output_must_be_refused_before_the_run(string expected, params string[] options)
    {
        var (exitCode, output, errors) = CommandLine.Run(["run", "--seq", "64", "--devices", "2", .. options]);
        Assert.Equal(2, exitCode);
        Assert.Equal(string.Empty, output);
        Assert.Contains(expected, Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Fact]
    public void Unverified_output_must_be_written_with_keep_inexact_and_say_so()
    {
        var outPath = Path.Combine(_directory, "unverified.npy");
        var (exitCode, output, errors) = CommandLine.Run(
            "run", "--seq", "40", "--heads", "2", "--kv-heads", "1", "--dim", "8", "--devices", "2", "--pattern", "none", "--no-scaling",
            "--verify", "none", "--out", outPath, "--keep-inexact");
        Assert.True(exitCode == 0, $"exit {exitCode}\n{output}\n{errors}");
        Assert.Contains($"ring output written to {outPath} unverified (--verify none, --keep-inexact)", output, StringComparison.Ordinal);
        Assert.Equal([1, 2, 40, 8], NpyFile.Read(outPath).Shape);
    }

    [Fact]
    public void A_npy_header_nested_64_KiB_deep_must_give_one_line_and_exit_code_2()
    {
        // 64 KiB of '(' recursed once per level in the header parser and could overflow the stack, which nothing catches.
        var deep = Path.Combine(_directory, "deep.npy");
        var header = Encoding.Latin1.GetBytes("{'descr': '<f4', 'fortran_order': False, 'shape': " + new string('(', 65000) + "\n");
        using (var file = File.Create(deep))
        {
            file.Write([0x93, .. "NUMPY"u8, 2, 0]);
            file.Write(BitConverter.GetBytes((uint)header.Length));
            file.Write(header);
        }

        var good = Path.Combine(_directory, "good.npy");
        NpyFile.Write(good, new float[2 * 10 * 4], [2, 10, 4]);
        var (exitCode, _, errors) = CommandLine.Run("run", "--q", deep, "--k", good, "--v", good, "--devices", "2", "--no-causal");
        Assert.Equal(2, exitCode);
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"{deep}: header nests tuples or lists deeper than 32 levels", line, StringComparison.Ordinal);
        Assert.True(line.Length < 400, line);
    }

    /// <summary>
    /// q, k and v the float32 ring cannot get right, written to .npy files ([H,N,d] = [2,32,8]): every query is (s, 0, …) and
    /// key j is (s + j·ε, 0, …) with s = 1000, ε = 10⁻⁴, so the scores (≈ s²/√d ≈ 3.5·10⁵) differ from key to key by s·ε/√d ≈
    /// 0.035, about the float32 spacing at that size (0.03). The float64 reference tells the keys apart; float32 scores round
    /// them by up to half that spacing, a few percent of each softmax weight: far beyond the 10⁻⁵ the ring must meet.
    /// </summary>
    private (string Q, string K, string V) IllConditioned()
    {
        const int Heads = 2, N = 32, D = 8;
        var q = new float[Heads * N * D];
        var k = new float[Heads * N * D];
        for (var h = 0; h < Heads; h++)
        {
            for (var t = 0; t < N; t++)
            {
                q[((h * N) + t) * D] = 1000f;
                k[((h * N) + t) * D] = 1000f + (t * 1e-4f);
            }
        }

        var v = AttentionInput.Random(new AttentionShape(1, Heads, Heads, N, D), seed: 3).V;
        var paths = (Path.Combine(_directory, "q-ill.npy"), Path.Combine(_directory, "k-ill.npy"), Path.Combine(_directory, "v-ill.npy"));
        NpyFile.Write(paths.Item1, q, [Heads, N, D]);
        NpyFile.Write(paths.Item2, k, [Heads, N, D]);
        NpyFile.Write(paths.Item3, v, [Heads, N, D]);
        return paths;
    }
}
