namespace RingActors.Host.Tests;

public class CompareCommandSpec
{
    [Fact]
    public void Compare_must_print_dense_and_blockwise_with_errors_against_the_oracle()
    {
        var (exitCode, output, errors) = CommandLine.Run("compare", "--seq", "61", "--heads", "4", "--kv-heads", "2", "--dim", "16", "--causal", "--block", "16", "--threads", "1");
        Assert.Equal(0, exitCode);
        Assert.Equal(string.Empty, errors);
        Assert.Contains("dense (fp32, N×N scores)", output);
        Assert.Contains("blockwise (key blocks of 16)", output);
        Assert.Contains("float64 oracle", output);
        Assert.DoesNotContain("NaN", output);
    }

    [Theory]
    [InlineData("heads (3) must be a multiple of kv-heads (2)", "compare", "--heads", "3", "--kv-heads", "2")]
    [InlineData("head dimension must be ≥ 1, got 0", "compare", "--dim", "0")]
    [InlineData("--block must be ≥ 1 token, got 0", "compare", "--block", "0")]
    [InlineData("Unknown option 'bogus'", "compare", "--bogus")]
    [InlineData("--threads must be ≥ 1, got 0", "compare", "--threads", "0")]
    public void Bad_input_must_give_one_line_and_exit_code_2(string expected, params string[] args)
    {
        var (exitCode, _, errors) = CommandLine.Run(args);
        Assert.Equal(2, exitCode);
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("ringactors: error: ", line);
        Assert.Contains(expected, line);
        Assert.DoesNotContain("   at ", errors);
    }
}
