using RingActors.Actors.Devices;

namespace RingActors.Actors.Tests.Backward;

public class GradientHomeSpec
{
    [Fact]
    public void GradientHome_must_sum_each_contributor_once_whatever_arrives_again()
    {
        var home = new GradientHome(home: 1, devices: 3, epoch: 2, elements: 4);
        float[] Ones() => [1, 1, 1, 1];

        Assert.Equal(ContributionVerdict.Summed, home.Add(0, 1, 2, Ones(), Ones()).Verdict);
        Assert.Equal(ContributionVerdict.Duplicate, home.Add(0, 1, 2, Ones(), Ones()).Verdict); // retransmission, duplicate, recomputation
        Assert.Equal(ContributionVerdict.Summed, home.Add(2, 1, 2, [], []).Verdict); // a wholly masked pair: zero, still counted
        Assert.False(home.IsComplete);
        Assert.Equal(ContributionVerdict.Summed, home.Add(1, 1, 2, [2, 2, 2, 2], [3, 3, 3, 3]).Verdict);

        Assert.True(home.IsComplete);
        Assert.Equal(3, home.Summed);
        Assert.Equal(1, home.Duplicates);
        Assert.Equal([3f, 3, 3, 3], home.Gradients.Keys);
        Assert.Equal([4f, 4, 4, 4], home.Gradients.Values);
    }

    [Theory]
    [InlineData(0, 1, 1, 4, "incarnation 1")] // addressed to the lost incarnation of this home
    [InlineData(0, 0, 2, 4, "for block 0")] // another device's block
    [InlineData(5, 1, 2, 4, "outside 0..2")]
    [InlineData(0, 1, 2, 3, "the block needs 4")]
    public void GradientHome_must_refuse_and_not_sum_a_contribution_that_is_not_its_own(int contributor, int block, int epoch, int length, string reason)
    {
        var home = new GradientHome(home: 1, devices: 3, epoch: 2, elements: 4);

        var (verdict, why) = home.Add(contributor, block, epoch, new float[length], new float[length]);

        Assert.Equal(ContributionVerdict.Refused, verdict);
        Assert.Contains(reason, why, StringComparison.Ordinal);
        Assert.Equal(0, home.Summed);
        Assert.False(home.HasFrom(System.Math.Min(contributor, 2)));
    }
}
