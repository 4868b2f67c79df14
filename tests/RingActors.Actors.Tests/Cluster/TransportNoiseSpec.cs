using Akka.Event;
using RingActors.Actors.Cluster;

namespace RingActors.Actors.Tests.Cluster;

public class TransportNoiseSpec
{
    [Fact]
    public void TransportNoise_must_write_each_kind_of_transport_event_once_and_every_other_event_always()
    {
        var noise = new TransportNoise();
        Error Caught(string channel, Exception cause) =>
            new(cause, "akka.tcp://ring@127.0.0.1:4053/system/transports", typeof(Akka.Remote.RemoteActorRefProvider), $"Error caught channel [{channel}](Id={Guid.NewGuid():N})");

        Assert.True(noise.Admit(Caught("[::ffff:127.0.0.1]:4053->[::ffff:127.0.0.1]:58174", new InvalidOperationException("frame length exceeds 1114112: 838860804"))));
        Assert.False(noise.Admit(Caught("[::ffff:127.0.0.1]:4053->[::ffff:127.0.0.1]:58200", new InvalidOperationException("frame length exceeds 1114112: 12345678"))));
        Assert.True(noise.Admit(Caught("[::ffff:127.0.0.1]:4053->[::ffff:127.0.0.1]:58300", new FormatException("negative length"))));
        Assert.Equal(1, noise.Suppressed);

        // The ring's own events are never held back, however alike.
        var ring = new Warning("akka://ring/user/ring-1", typeof(RingSupervisor), "Ring job job-1: device 0 has not acknowledged its setup; sent again");
        Assert.True(noise.Admit(ring));
        Assert.True(noise.Admit(ring));
    }

    [Fact]
    public void TransportNoise_must_stop_writing_transport_events_after_its_kinds_are_used_up()
    {
        var noise = new TransportNoise();
        for (var i = 0; i < TransportNoise.MaxKinds; i++)
        {
            Assert.True(noise.Admit(new Warning("remoting", typeof(Akka.Remote.RemoteActorRefProvider), $"kind {(char)('a' + (i % 26))}{(char)('a' + (i / 26))}")));
        }

        Assert.False(noise.Admit(new Warning("remoting", typeof(Akka.Remote.RemoteActorRefProvider), "yet another kind")));
    }
}
