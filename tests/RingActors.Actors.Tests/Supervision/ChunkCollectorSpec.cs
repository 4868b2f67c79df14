using RingActors.Actors.Protocol;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors.Tests.Supervision;

public class ChunkCollectorSpec
{
    [Fact]
    public void ChunkCollector_must_count_blocks_take_each_result_once_and_restart_a_recreated_devices_count()
    {
        var collector = new ChunkCollector(3);

        Assert.True(collector.BlockMerged(0));
        Assert.True(collector.BlockMerged(2));
        Assert.True(collector.BlockMerged(2));
        Assert.False(collector.BlockMerged(3));
        Assert.False(collector.BlockMerged(-1));
        Assert.Equal((3, 2), (collector.BlocksDone, collector.BlocksDoneBy(2)));
        Assert.Equal("0 (1/3), 1 (0/3), 2 (2/3)", collector.StillRunning());

        collector.Restarted(2);
        Assert.Equal(0, collector.BlocksDoneBy(2));

        Assert.True(collector.ChunkFinished(Result(1)));
        Assert.False(collector.ChunkFinished(Result(1)));
        Assert.False(collector.ChunkFinished(Result(7)));
        Assert.False(collector.AllIn);
        Assert.Throws<InvalidOperationException>(() => collector.Results);

        Assert.True(collector.ChunkFinished(Result(0)));
        Assert.True(collector.ChunkFinished(Result(2)));
        Assert.True(collector.AllIn);
        Assert.Equal([0, 1, 2], collector.Results.Select(r => r.Device));
        Assert.Equal(string.Empty, collector.StillRunning());
    }

    [Fact]
    public void ChunkCollector_must_keep_the_first_result_when_the_same_device_reports_again()
    {
        var collector = new ChunkCollector(2);
        var first = Result(0);
        Assert.True(collector.ChunkFinished(first));

        // The answer to the watchdog's repeated StartRing, or a forged one with other numbers: never replaces the first.
        Assert.False(collector.ChunkFinished(first));
        Assert.False(collector.ChunkFinished(first with { Output = [42f] }));
        Assert.Same(first, collector.ResultOf(0));
        Assert.Equal(1, collector.ChunksDone);
        Assert.False(collector.AllIn);
    }

    private static ChunkCompleted Result(int device) =>
        new("job", device, [], [], new DeviceStats(device, 1, 3, 0, 3, 12, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, 0, 0, 2, 2, 0, 0, 2, 0, 0, TimeSpan.Zero, TimeSpan.Zero));
}
