using RingActors.Actors.Faults;

namespace RingActors.Actors.Tests.Faults;

public class FaultSpecSpec
{
    [Theory]
    [InlineData("kill-device:2@3", "kill-device:2@3")]
    [InlineData("crash-node:node-b@1", "crash-node:node-b@1")]
    [InlineData("drop:0.05", "drop:0.05")]
    [InlineData("drop:0.5@3", "drop:0.5@3")]
    [InlineData("delay:20", "delay:20")]
    [InlineData("delay:20~5", "delay:20~5")]
    [InlineData("duplicate:0.25", "duplicate:0.25")]
    [InlineData("partition:node-c@2+1.5", "partition:node-c@2+1.5")]
    [InlineData("slow-device:1*3", "slow-device:1*3")]
    [InlineData(" DROP:1 ", "drop:1")]
    [InlineData("kill-device:?@?", "kill-device:?@?")]
    [InlineData("kill-device:2@?", "kill-device:2@?")]
    public void FaultSpec_must_parse_every_kind_and_print_it_back(string spec, string canonical) =>
        Assert.Equal(canonical, FaultSpec.Parse(spec).ToString());

    [Fact]
    public void FaultSpec_must_keep_the_arguments()
    {
        Assert.Equal(new FaultSpec.KillDevice(2, 3), FaultSpec.Parse("kill-device:2@3"));
        Assert.Equal(new FaultSpec.Drop(0.5, 3), FaultSpec.Parse("drop:0.5@3"));
        Assert.Equal(new FaultSpec.Delay(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(5)), FaultSpec.Parse("delay:20~5"));
        Assert.Equal(new FaultSpec.Partition("n1", 2, TimeSpan.FromSeconds(3)), FaultSpec.Parse("partition:n1@2+3"));
        Assert.Equal(new FaultSpec.SlowDevice(1, 2.5), FaultSpec.Parse("slow-device:1*2.5"));
        Assert.True(FaultSpec.Parse("crash-node:a@0").NeedsCluster);
        Assert.False(FaultSpec.Parse("drop:0.1").NeedsCluster);
    }

    [Theory]
    [InlineData("drop", "expected KIND:ARGS")]
    [InlineData("explode:1", "unknown kind 'explode'")]
    [InlineData("drop:1.5", "probability P must be in [0, 1]")]
    [InlineData("drop:x", "probability P must be a number")]
    [InlineData("drop:0.1@-1", "device R must be an integer")]
    [InlineData("kill-device:2", "expected R@S")]
    [InlineData("kill-device:a@1", "device R must be an integer")]
    [InlineData("delay:5~10", "jitter 10 ms exceeds the delay 5 ms")]
    [InlineData("delay:-1", "delay MS must be in [0, 60000] ms")]
    [InlineData("partition:n@1", "expected NAME@S+SECONDS")]
    [InlineData("partition:n@1+0", "SECONDS must be in (0, 3600]")]
    [InlineData("crash-node:a b@1", "node NAME must be")]
    [InlineData("slow-device:1*0.5", "factor K must be in [1, 1000]")]
    [InlineData("duplicate:2", "probability P must be in [0, 1]")]
    public void FaultSpec_must_refuse_a_malformed_spec_naming_it_and_what_is_allowed(string spec, string problem)
    {
        var error = Assert.Throws<ArgumentException>(() => FaultSpec.Parse(spec));
        Assert.Contains($"fault '{spec}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Contains("allowed: kill-device:R@S", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }
}
