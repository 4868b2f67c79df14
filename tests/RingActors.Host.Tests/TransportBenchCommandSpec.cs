namespace RingActors.Host.Tests;

/// <summary><c>bench transport</c> refuses bad options with one line and exit code 2, before it starts any node.</summary>
public class TransportBenchCommandSpec
{
    [Theory]
    [InlineData("--sizes", "1,x", "--sizes must list sizes in MiB in (0, 256], got '1,x'")]
    [InlineData("--sizes", "0", "--sizes must list sizes in MiB in (0, 256], got '0'")]
    [InlineData("--budget", "0", "--budget must be in (0, 4096] MiB, got 0")]
    [InlineData("--window", "0", "--window must be in [1, 64], got 0")]
    [InlineData("--path", "tcp", "--path must be wire, delivery or both, got 'tcp'")]
    [InlineData("--delivery-chunk", "10", "--delivery-chunk must be ≥ 1024 bytes, got 10")]
    [InlineData("--config", "no-such-file.conf", "--config: file 'no-such-file.conf' not found")]
    public void Bench_transport_must_refuse_bad_options_with_a_one_line_error_and_exit_2(string option, string value, string message)
    {
        var (exitCode, output, errors) = CommandLine.Run("bench", "transport", option, value);

        Assert.Equal(2, exitCode);
        Assert.Equal($"ringactors: error: {message}", errors.TrimEnd('\n', '\r'));
        Assert.DoesNotContain("MiB/s", output, StringComparison.Ordinal);
    }
}
