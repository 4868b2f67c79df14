namespace RingActors.Actors.Protocol;

/// <summary>
/// Neighbour arithmetic of a ring of <see cref="Devices"/> devices. Blocks travel from a device to its successor;
/// at step s (0 ≤ s &lt; P) device r computes on the key/value block that originated at device (r − s) mod P,
/// so after P steps every device has met every block exactly once.
/// </summary>
public sealed record RingTopology
{
    public RingTopology(int devices)
    {
        if (devices < 1)
        {
            throw new ArgumentException($"a ring needs at least 1 device, got {devices}", nameof(devices));
        }

        Devices = devices;
    }

    public int Devices { get; }

    /// <summary>Steps a job takes: one per block, P.</summary>
    public int Steps => Devices;

    /// <summary>Hand-offs each device makes per job: every block but the last one it sees goes on, P − 1.</summary>
    public int HandOffsPerDevice => Devices - 1;

    /// <summary>The device a block goes to next: (r + 1) mod P.</summary>
    public int Successor(int device) => Mod(CheckDevice(device) + 1);

    /// <summary>The device blocks come from: (r − 1) mod P.</summary>
    public int Predecessor(int device) => Mod(CheckDevice(device) - 1);

    /// <summary>The device whose block device <paramref name="device"/> computes on at <paramref name="step"/>: (r − s) mod P.</summary>
    public int OriginAt(int device, int step) => Mod(CheckDevice(device) - CheckStep(step));

    /// <summary>The step at which <paramref name="device"/> holds the block of <paramref name="origin"/>: (r − origin) mod P.</summary>
    public int StepOf(int device, int origin) => Mod(CheckDevice(device) - CheckDevice(origin, nameof(origin)));

    /// <summary>Whether a block a device holds at <paramref name="step"/> still has to go on: true unless it has been all the way round.</summary>
    public bool PassesOn(int step) => CheckStep(step) < Devices - 1;

    private int Mod(int value) => ((value % Devices) + Devices) % Devices;

    private int CheckDevice(int device, string parameter = "device")
    {
        if ((uint)device >= (uint)Devices)
        {
            throw new ArgumentException($"{parameter} must be in 0..{Devices - 1}, got {device}", parameter);
        }

        return device;
    }

    private int CheckStep(int step)
    {
        if ((uint)step >= (uint)Devices)
        {
            throw new ArgumentException($"step must be in 0..{Devices - 1}, got {step}", nameof(step));
        }

        return step;
    }
}
