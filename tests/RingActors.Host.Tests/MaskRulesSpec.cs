using System.Text.Json;
using RingActors.Math;
using RingActors.Math.IO;

namespace RingActors.Host.Tests;

/// <summary>One mask vocabulary: every verb takes --causal and --no-causal, is causal by default and says so first.</summary>
public sealed class MaskRulesSpec : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ringactors-mask-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public static TheoryData<string[]> Verbs() => new()
    {
        new[] { "run", "--seq", "40", "--heads", "2", "--kv-heads", "1", "--dim", "8", "--devices", "2", "--pattern", "none", "--no-scaling", "--threads", "1" },
        new[] { "compare", "--seq", "40", "--heads", "2", "--kv-heads", "1", "--dim", "8", "--block", "16", "--threads", "1" },
        new[] { "experiment", "--seq", "40", "--heads", "2", "--kv-heads", "1", "--dim", "8", "--devices", "2", "--threads", "1", "--fault", "delay:1" },
        new[] { "plan", "--devices", "4", "--seq", "4096" },
        new[] { "bench", "ring", "--seq", "64", "--devices", "2", "--repetitions", "1" },
        new[] { "bench", "long", "--min-seq", "256", "--max-seq", "256", "--devices", "2", "--dim", "8" },
    };

    [Theory]
    [MemberData(nameof(Verbs))]
    public void Every_verb_must_be_causal_by_default_and_say_the_mask_in_its_first_line(string[] verb)
    {
        foreach (var (flags, mask) in new[] { (Array.Empty<string>(), "causal"), (["--causal"], "causal"), (new[] { "--no-causal" }, "no-causal") })
        {
            var (exitCode, output, errors) = CommandLine.Run([.. verb, .. flags]);
            Assert.True(exitCode == 0, $"{string.Join(' ', verb)} {string.Join(' ', flags)}: {errors}{output}");
            var first = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Trim()).First(line => line.Length > 0);
            Assert.Matches($"(^|\\W)mask:? +{mask}(\\W|$)", first);
        }
    }

    [Theory]
    [MemberData(nameof(Verbs))]
    public void Every_verb_must_refuse_both_masks_at_once(string[] verb)
    {
        var (exitCode, _, errors) = CommandLine.Run([.. verb, "--causal", "--no-causal"]);
        Assert.Equal(2, exitCode);
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--causal and --no-causal contradict each other", line);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("experiment")]
    public void Npy_inputs_must_name_their_mask(string verb)
    {
        var input = AttentionInput.Random(new AttentionShape(1, 1, 1, 12, 4), seed: 1);
        var q = Path.Combine(_directory, "q.npy");
        var k = Path.Combine(_directory, "k.npy");
        var v = Path.Combine(_directory, "v.npy");
        NpyFile.Write(q, input.Q, [1, 12, 4]);
        NpyFile.Write(k, input.K, [1, 12, 4]);
        NpyFile.Write(v, input.V, [1, 12, 4]);
        string[] args = [verb, "--q", q, "--k", k, "--v", v, "--devices", "2", .. verb == "experiment" ? new[] { "--fault", "delay:1" } : []];

        var (exitCode, output, errors) = CommandLine.Run(args);
        Assert.Equal(2, exitCode);
        Assert.Equal(string.Empty, output);
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("with --q/--k/--v give the mask: --causal or --no-causal", line);

        var (given, givenOutput, givenErrors) = CommandLine.Run([.. args, "--no-causal"]);
        Assert.True(given == 0, givenErrors + givenOutput);
    }

    [Fact]
    public void Plan_and_run_json_must_carry_the_mask()
    {
        var plan = Path.Combine(_directory, "plan.json");
        Assert.Equal(0, CommandLine.Run("plan", "--devices", "4", "--seq", "4096", "--no-causal", "--json", plan).ExitCode);
        using var planDocument = JsonDocument.Parse(File.ReadAllText(plan));
        Assert.Equal("no-causal", planDocument.RootElement.GetProperty("mask").GetString());
        Assert.False(planDocument.RootElement.GetProperty("request").GetProperty("causal").GetBoolean());

        var run = Path.Combine(_directory, "run.json");
        var (exitCode, output, errors) = CommandLine.Run("run", "--seq", "40", "--heads", "2", "--kv-heads", "1", "--dim", "8", "--devices", "2", "--pattern", "none", "--no-scaling", "--json", run);
        Assert.True(exitCode == 0, errors + output);
        using var runDocument = JsonDocument.Parse(File.ReadAllText(run));
        Assert.Equal("causal", runDocument.RootElement.GetProperty("mask").GetString());
        Assert.True(runDocument.RootElement.GetProperty("ring").GetProperty("causal").GetBoolean());
    }
}
