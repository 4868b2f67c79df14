namespace RingActors.Math.Modelling;

/// <summary>
/// How the devices of a local ring share the host: P device actors hand their blocks to a compute dispatcher of
/// <see cref="ComputeThreads"/> threads, each block's kernel uses <see cref="ThreadsPerDevice"/> threads, and all of them
/// run on <see cref="Cores"/> cores. A model that gives every device a core of its own predicted 4 devices on 2 cores
/// at about half their measured time (issue 12).
/// </summary>
public sealed record HostSharing
{
    public HostSharing(int cores, int computeThreads, int threadsPerDevice)
    {
        Cores = cores >= 1 ? cores : throw new ArgumentException($"cores must be ≥ 1, got {cores}", nameof(cores));
        ComputeThreads = computeThreads >= 1 ? computeThreads : throw new ArgumentException($"compute threads must be ≥ 1, got {computeThreads}", nameof(computeThreads));
        ThreadsPerDevice = threadsPerDevice >= 1 ? threadsPerDevice : throw new ArgumentException($"threads per device must be ≥ 1, got {threadsPerDevice}", nameof(threadsPerDevice));
    }

    public int Cores { get; }

    public int ComputeThreads { get; }

    public int ThreadsPerDevice { get; }

    /// <summary>Devices computing at once: no more than the dispatcher has threads.</summary>
    public int RunningDevices(int devices)
    {
        Guard.Positive(devices, nameof(devices));
        return System.Math.Min(devices, ComputeThreads);
    }

    /// <summary>
    /// One device's long-run compute rate in kernel threads on an idle core, with every device busy: the kernel threads
    /// that can run at once (running devices × threads each, at most the cores) spread evenly over all P devices.
    /// Exact for a balanced ring (zigzag, striped, or no mask), where every device has a block to compute at every step.
    /// </summary>
    public double DeviceShare(int devices) =>
        System.Math.Min(RunningDevices(devices) * ThreadsPerDevice, Cores) / (double)devices;

    /// <summary>One device's FLOP/s when a single kernel thread alone achieves <paramref name="threadFlops"/>.</summary>
    public double DeviceFlops(double threadFlops, int devices) => threadFlops * DeviceShare(devices);
}
