using RingActors.Actors.Protocol;
namespace RingActors.Actors.Tests;

public class RingTopologySpec
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void RingTopology_must_bring_every_block_to_every_device_once(int devices)
    {
        var ring = new RingTopology(devices);
        for (var r = 0; r < devices; r++)
        {
            var origins = Enumerable.Range(0, ring.Steps).Select(s => ring.OriginAt(r, s)).ToArray();
            Assert.Equal(Enumerable.Range(0, devices), origins.Order());
            Assert.Equal(r, ring.OriginAt(r, 0));
            Assert.Equal(r, ring.Predecessor(ring.Successor(r)));
            for (var s = 0; s < ring.Steps; s++)
            {
                Assert.Equal(s, ring.StepOf(r, ring.OriginAt(r, s)));
            }
        }
    }

    [Fact]
    public void RingTopology_must_give_a_block_received_at_step_s_to_the_successor_at_step_s_plus_1()
    {
        var ring = new RingTopology(5);
        for (var r = 0; r < 5; r++)
        {
            for (var s = 0; s < 4; s++)
            {
                Assert.True(ring.PassesOn(s));
                Assert.Equal(ring.OriginAt(r, s), ring.OriginAt(ring.Successor(r), s + 1));
            }

            Assert.False(ring.PassesOn(4));
        }

        Assert.Equal(4, ring.HandOffsPerDevice);
        Assert.Equal(4, ring.Successor(3));
        Assert.Equal(0, ring.Successor(4));
        Assert.Equal(4, ring.Predecessor(0));
        Assert.Equal(3, ring.OriginAt(0, 2));
    }

    [Fact]
    public void RingTopology_must_refuse_bad_sizes()
    {
        Assert.Throws<ArgumentException>(() => new RingTopology(0));
        var ring = new RingTopology(3);
        Assert.Throws<ArgumentException>(() => ring.Successor(3));
        Assert.Throws<ArgumentException>(() => ring.OriginAt(0, 3));
        Assert.Throws<ArgumentException>(() => ring.OriginAt(-1, 0));
    }
}
