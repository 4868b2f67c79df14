namespace RingActors.Actors.Devices;

/// <summary>A device failed while computing a block; the message names the device, the step and the block's origin.</summary>
public sealed class RingDeviceException : Exception
{
    public RingDeviceException(int device, int step, int origin, Exception inner)
        : base($"device {device} failed computing step {step} (the block of device {origin}): {inner?.GetType().Name}: {inner?.Message}", inner)
    {
        Device = device;
        Step = step;
        Origin = origin;
    }

    public int Device { get; }

    public int Step { get; }

    public int Origin { get; }
}
