using RingActors.Math.Modelling;

namespace RingActors.Math.Tests.Modelling;

public class HostSharingSpec
{
    [Theory]
    // cores, compute threads, threads per device, devices, expected share of one kernel thread per device
    [InlineData(2, 2, 1, 1, 1.0)] // one device runs alone on one thread
    [InlineData(2, 2, 1, 2, 1.0)] // a core each
    [InlineData(2, 2, 1, 4, 0.5)] // 4 devices take turns on 2 dispatcher threads
    [InlineData(2, 2, 1, 8, 0.25)]
    [InlineData(2, 1, 1, 4, 0.25)] // one dispatcher thread: one device at a time although 2 cores are free
    [InlineData(2, 2, 2, 4, 0.5)] // 2 devices × 2 threads want 4 cores, get 2
    [InlineData(8, 4, 2, 4, 2.0)] // every device runs on 2 threads of its own
    public void DeviceShare_must_spread_the_runnable_kernel_threads_over_every_device(int cores, int computeThreads, int threadsPerDevice, int devices, double expected)
    {
        var host = new HostSharing(cores, computeThreads, threadsPerDevice);
        Assert.Equal(expected, host.DeviceShare(devices), 12);
        Assert.Equal(expected * 30e9, host.DeviceFlops(30e9, devices), 3);
    }

    [Fact]
    public void HostSharing_must_refuse_empty_hosts_naming_the_parameter()
    {
        Assert.Equal("cores", Assert.Throws<ArgumentException>(() => new HostSharing(0, 2, 1)).ParamName);
        Assert.Equal("computeThreads", Assert.Throws<ArgumentException>(() => new HostSharing(2, 0, 1)).ParamName);
        Assert.Equal("threadsPerDevice", Assert.Throws<ArgumentException>(() => new HostSharing(2, 2, 0)).ParamName);
        Assert.Throws<ArgumentException>(() => new HostSharing(2, 2, 1).DeviceShare(0));
    }
}
