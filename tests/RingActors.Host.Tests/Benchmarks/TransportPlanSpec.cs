using RingActors.Host.Benchmarks;

namespace RingActors.Host.Tests.Benchmarks;

public class TransportPlanSpec
{
    [Theory]
    [InlineData(1.0, 128.0, 128)]
    [InlineData(16.0, 128.0, 8)]
    [InlineData(3.0, 128.0, 43)]
    [InlineData(16.0, 1.0, TransportPlan.MinimumCount)]
    [InlineData(0.001, 128.0, TransportPlan.MaximumCount)]
    public void CountFor_must_move_the_budget_within_its_bounds(double size, double budget, int expected) =>
        Assert.Equal(expected, new TransportPlan([size], budget).CountFor(size));

    [Theory]
    [InlineData(1.0, 1024)]
    [InlineData(16.0, 16384)]
    [InlineData(0.0001, 1)]
    public void TokensFor_must_give_a_block_of_the_asked_size(double size, int tokens)
    {
        Assert.Equal(tokens, TransportPlan.TokensFor(size));
        Assert.Equal(tokens * 2L * 128 * 4, TransportPlan.PayloadBytes(tokens));
    }

    [Fact]
    public void ParseSizes_must_read_a_comma_separated_list_in_MiB() =>
        Assert.Equal([1.0, 2.0, 0.25], TransportPlan.ParseSizes("1, 2,0.25", "--sizes"));

    [Theory]
    [InlineData("")]
    [InlineData("1,x")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("512")]
    public void ParseSizes_must_refuse_anything_else_naming_the_option(string text)
    {
        var error = Assert.Throws<ArgumentException>(() => TransportPlan.ParseSizes(text, "--sizes"));
        Assert.StartsWith("--sizes must list", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MiBPerSecond_must_divide_mebibytes_by_seconds()
    {
        Assert.Equal(256.0, TransferRate.MiBPerSecond(64L << 20, 0.25), 12);
        Assert.True(double.IsNaN(TransferRate.MiBPerSecond(1, 0)));
    }

    [Fact]
    public void Median_must_take_the_middle_value_or_the_mean_of_the_middle_two()
    {
        Assert.Equal(3.0, TransferRate.Median([5.0, 1.0, 3.0]));
        Assert.Equal(2.5, TransferRate.Median([4.0, 1.0, 2.0, 3.0]));
        Assert.True(double.IsNaN(TransferRate.Median([])));
    }
}
