namespace RingActors.Host.Tests;

/// <summary>
/// Every numeric option of every verb is range-checked before anything runs: NaN, ∞, values that would overflow a conversion
/// (seconds to a TimeSpan, a shape's element count) and values past the verb's bounds give one line and exit 2.
/// </summary>
public sealed class OptionRangeSpec
{
    private const string Deadline = "--deadline must be a finite number in [0.001, 86400] seconds, got ";

    [Theory]
    [InlineData(Deadline + "1E+300", "run", "--deadline", "1e300")]
    [InlineData(Deadline + "NaN", "run", "--deadline", "NaN")]
    [InlineData(Deadline + "Infinity", "run", "--deadline", "Infinity")]
    [InlineData(Deadline + "0", "run", "--deadline", "0")]
    [InlineData(Deadline + "-1", "run", "--deadline", "-1")]
    [InlineData(Deadline + "1E-07", "run", "--deadline", "1e-7")]
    [InlineData(Deadline + "86401", "run", "--deadline", "86401")]
    [InlineData("--threads must be in [1, 4096], got 5000", "run", "--threads", "5000")]
    [InlineData("--threads-per-device must be in [1, 4096], got 5000", "run", "--threads-per-device", "5000")]
    [InlineData("--devices must be in [1, 4096], got 5000", "run", "--devices", "5000", "--seq", "8192")]
    [InlineData("--repeats must be in [3, 1000], got 1001", "run", "--repeats", "1001")]
    [InlineData("Q would hold 18446744073709551616 floats", "run", "--batch", "65536", "--heads", "65536", "--kv-heads", "1", "--seq", "65536", "--dim", "65536")]
    [InlineData("--device-nodes must be in [1, 4096], got 5000", "run", "--cluster", "--seed", "akka.tcp://ring@127.0.0.1:4053", "--device-nodes", "5000")]
    [InlineData(Deadline + "1E+300", "experiment", "--fault", "drop:0", "--deadline", "1e300")]
    [InlineData("--ack-timeout must be a finite number in [1, 600000] milliseconds, got NaN", "experiment", "--fault", "drop:0", "--ack-timeout", "NaN")]
    [InlineData("--ack-timeout must be a finite number in [1, 600000] milliseconds, got 1E+300", "experiment", "--fault", "drop:0", "--ack-timeout", "1e300")]
    [InlineData("--retries must be in [0, 100], got 101", "experiment", "--fault", "drop:0", "--retries", "101")]
    [InlineData("--threads must be in [1, 4096], got 5000", "compare", "--threads", "5000")]
    [InlineData("--devices must be in [1, 4096], got 5000", "plan", "--devices", "5000")]
    [InlineData("--flops must be finite and > 0, got Infinity", "plan", "--flops", "1e999", "--bandwidth", "1e9", "--memory", "1e9")]
    [InlineData("--repetitions must be in [1, 1000], got 1001", "bench", "ring", "--repetitions", "1001")]
    [InlineData("--devices must be in [1, 4096], got 5000", "bench", "ring", "--devices", "5000", "--seq", "8192")]
    [InlineData("Q would hold 1024000000000 floats", "bench", "ring", "--seq", "2000000000")]
    [InlineData("--repetitions must be in [1, 1000], got 1001", "bench", "kernels", "--repetitions", "1001")]
    [InlineData("--seq takes positive whole numbers separated by commas, got '0'", "bench", "kernels", "--seq", "0")]
    [InlineData("Q would hold 6400000000 floats", "bench", "kernels", "--seq", "100000000", "--dims", "64")]
    [InlineData("--repeats must be in [3, 1000], got 1001", "bench", "long", "--repeats", "1001")]
    [InlineData("--full-up-to must be in [0, 2147483647], got -1", "bench", "long", "--full-up-to", "-1")]
    [InlineData("--devices must be in [1, 4096], got 5000", "bench", "long", "--devices", "5000")]
    [InlineData("--devices must be in [1, 64], got 65", "bench", "cluster", "--devices", "65", "--seq", "768")]
    [InlineData("--up-timeout must be in [1, 86400], got 0", "bench", "cluster", "--up-timeout", "0")]
    [InlineData("--up-timeout must be in [1, 86400], got 86401", "bench", "transport", "--up-timeout", "86401")]
    [InlineData("--delivery-chunk must be in [1024, 268435456], got 2147483647", "bench", "transport", "--delivery-chunk", "2147483647")]
    [InlineData("--budget must be in (0, 4096] MiB, got NaN", "bench", "transport", "--budget", "NaN")]
    [InlineData("--join-timeout must be a whole number of seconds in [1, 86400], got '1e300'", "node", "--role", "device", "--join-timeout", "1e300")]
    public void A_numeric_option_out_of_range_must_give_one_line_and_exit_code_2(string expected, params string[] args)
    {
        var (exitCode, output, errors) = CommandLine.Run(args);

        Assert.True(exitCode == 2, $"exit {exitCode}\n{output}\n{errors}");
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("ringactors: error: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.Equal(string.Empty, output);
    }
}
