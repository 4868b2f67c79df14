namespace RingActors.Host.Tests;

/// <summary><c>bench cluster</c> refuses a bad sweep before it starts any node process.</summary>
public class ClusterBenchCommandSpec
{
    [Theory]
    [InlineData("--seq", "768,x", "--seq must list integers")]
    [InlineData("--seq", "2", "--seq must list integers ≥ --devices (3)")]
    [InlineData("--heads", "3", "--heads (3) must be a positive multiple of --kv-heads (2)")]
    [InlineData("--devices", "0", "--devices must be ≥ 1, got 0")]
    public void Bench_cluster_must_refuse_bad_options_with_a_one_line_error(string option, string value, string message)
    {
        var (exitCode, output, errors) = CommandLine.Run("bench", "cluster", option, value);

        Assert.NotEqual(0, exitCode);
        Assert.Contains(message, output + errors);
    }
}
