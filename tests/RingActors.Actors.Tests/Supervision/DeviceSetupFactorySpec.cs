using RingActors.Actors.Configuration;
using RingActors.Actors.Faults;
using RingActors.Actors.Protocol;
using RingActors.Math;
using RingActors.Math.Masks;

namespace RingActors.Actors.Tests.Supervision;

public class DeviceSetupFactorySpec
{
    [Fact]
    public void DeviceSetupFactory_must_give_a_recreated_device_every_setting_of_the_first_but_the_kill()
    {
        var shape = new AttentionShape(2, 4, 2, 96, 8);
        var pattern = PatternSpec.Parse("bigbird:16:1:1", new PatternContext(96, 7, true));
        var plan = FaultPlan.FromSpecs(["kill-device:1@2", "slow-device:1*3", "drop:0.1"], seed: 4);
        var settings = new RingJobSettings(3, LayoutKind.Striped, Causal: true, pattern, Scale: 0.25f, ThreadsPerDevice: 2)
        {
            PatternSpec = "bigbird:16:1:1",
            PatternSeed = 7,
            Faults = plan,
            Trial = 5,
        };
        var job = RingJob.Create(AttentionInput.Random(shape, seed: 1), settings, new RingActorsSettings(RingActorsSettings.DefaultComputeDispatcher, 2, 3, 1, TimeSpan.FromMinutes(1)));

        var first = DeviceSetupFactory.For(job, plan, 1, 0);
        var again = DeviceSetupFactory.For(job, plan, 1, 1);

        Assert.Equal((1, 2, true), (first.Hooks.FailingDevice, first.Hooks.FailAtStep, first.Hooks.StopInsteadOfThrowing));
        Assert.Equal((-1, -1), (again.Hooks.FailingDevice, again.Hooks.FailAtStep));
        Assert.Equal(3, again.Hooks.SlowFactor);
        Assert.Equal(1, again.Epoch);
        Assert.Equal(first with { Epoch = 1, Hooks = again.Hooks }, again);
        Assert.Equal(("bigbird:16:1:1", 7, 5), (again.PatternSpec, again.PatternSeed, again.Trial));
        Assert.Same(plan, again.Faults);
        Assert.Same(pattern, again.Options.Pattern);
        Assert.Equal((true, 0.25f, 2, 3), (again.Options.Causal, again.Options.Scale, again.Options.Threads, again.MaxBlocksHeld));

        // Device 0 is neither killed nor slowed.
        Assert.Equal(DeviceHooks.None, DeviceSetupFactory.For(job, plan, 0, 0).Hooks);
    }
}
