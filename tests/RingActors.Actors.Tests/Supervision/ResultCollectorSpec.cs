using RingActors.Actors.Protocol;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors.Tests.Supervision;

public class ResultCollectorSpec
{
    [Fact]
    public void ResultCollector_must_count_blocks_take_each_result_once_and_restart_a_recreated_devices_count()
    {
        var collector = new ResultCollector<ChunkCompleted>(3, r => r.Device);

        Assert.True(collector.BlockDone(0));
        Assert.True(collector.BlockDone(2));
        Assert.True(collector.BlockDone(2));
        Assert.False(collector.BlockDone(3));
        Assert.False(collector.BlockDone(-1));
        Assert.Equal((3, 2), (collector.BlocksDone, collector.BlocksDoneBy(2)));
        Assert.Equal("0 (1/3), 1 (0/3), 2 (2/3)", collector.StillRunning());

        collector.Restarted(2);
        Assert.Equal(0, collector.BlocksDoneBy(2));

        Assert.True(collector.Finished(Result(1)));
        Assert.False(collector.Finished(Result(1)));
        Assert.False(collector.Finished(Result(7)));
        Assert.False(collector.AllIn);
        Assert.Throws<InvalidOperationException>(() => collector.Results);

        Assert.True(collector.Finished(Result(0)));
        Assert.True(collector.Finished(Result(2)));
        Assert.True(collector.AllIn);
        Assert.Equal([0, 1, 2], collector.Results.Select(r => r.Device));
        Assert.Equal(string.Empty, collector.StillRunning());
    }

    [Fact]
    public void ResultCollector_must_keep_the_first_result_when_the_same_device_reports_again()
    {
        var collector = new ResultCollector<ChunkCompleted>(2, r => r.Device);
        var first = Result(0);
        Assert.True(collector.Finished(first));

        // The answer to the watchdog's repeated StartRing, or a forged one with other numbers: never replaces the first.
        Assert.False(collector.Finished(first));
        Assert.False(collector.Finished(first with { Output = [42f] }));
        Assert.Same(first, collector.ResultOf(0));
        Assert.Equal(1, collector.Done);
        Assert.False(collector.AllIn);
    }

    private static ChunkCompleted Result(int device) =>
        new("job", device, [], [], new DeviceStats(device, 1, 3, 0, 3, 12, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, 0, 0, 2, 2, 0, 0, 2, 0, 0, TimeSpan.Zero, TimeSpan.Zero));
}
