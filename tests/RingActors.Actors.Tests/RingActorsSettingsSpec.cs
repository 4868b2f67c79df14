using Akka.Configuration;
using RingActors.Actors.Configuration;
using RingActors.Actors.Devices;
using RingActors.Actors.Protocol;
using Xunit.Abstractions;

namespace RingActors.Actors.Tests;

public class RingActorsSettingsSpec(ITestOutputHelper output) : RingTestKit(output)
{
    [Fact]
    public void RingActorsSettings_must_read_the_embedded_defaults()
    {
        var settings = RingActorsSettings.Create(RingActorsConfig.Reference);
        Assert.Equal(new RingActorsSettings("ring-actors.compute-dispatcher", 2, 2, 1, TimeSpan.FromMinutes(10)), settings);
        Assert.Equal(settings, RingActorsSettings.Create(Sys));
    }

    [Fact]
    public void RingActorsSettings_must_take_overrides_and_refuse_illegal_values()
    {
        var settings = RingActorsSettings.Create(RingActorsConfig.Local("ring-actors { max-blocks-held = 3, job-deadline = 30s }"));
        Assert.Equal((3, TimeSpan.FromSeconds(30)), (settings.MaxBlocksHeld, settings.JobDeadline));
        var illegal = Assert.Throws<ArgumentException>(() => RingActorsSettings.Create(ConfigurationFactory.ParseString("ring-actors.max-blocks-held = 1")));
        Assert.Contains("ring-actors.max-blocks-held", illegal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RingActorsSettings_must_put_compute_on_its_own_dispatcher()
    {
        Assert.True(Sys.Dispatchers.HasDispatcher(RingActorsSettings.DefaultComputeDispatcher));
        Assert.Equal("ForkJoinDispatcher", Sys.Settings.Config.GetString("ring-actors.compute-dispatcher.type"));
        var setup = new DeviceSetup("job", 0, 1, 1, new Math.AttentionHeads(1, 1, 1, 1), Math.AttentionOptions.Default);
        Assert.Equal(RingActorsSettings.DefaultComputeDispatcher, ComputeWorker.Props(setup).Dispatcher);
    }
}
