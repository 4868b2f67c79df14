using RingActors.Actors.Protocol;
using static RingActors.Actors.Protocol.GradientProtocol;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors.Devices;

/// <summary>
/// What a device answers its supervisor's watchdog (plain class, see <see cref="RingWatchdog"/>): the supervisor sends a setup
/// or <see cref="StartRing"/> again when it has not heard the device acknowledge it, since the message or its answer may have
/// been lost on the way. A repeat is answered with where the device stands (<see cref="SetupTaken"/>) and, once the device
/// has reported, with the same <see cref="ChunkCompleted"/> again; nothing is loaded, started, computed or reported twice.
/// </summary>
public sealed class DeviceAnswers(string jobId, int device)
{
    private ChunkCompleted? _result;
    private GradientsCompleted? _gradients;

    /// <summary>Whether the device runs the ring (took <see cref="StartRing"/>, or was re-created and started at once).</summary>
    public bool Started { get; private set; }

    /// <summary>The acknowledgement of the setup: the chunk is held, the ring not yet started.</summary>
    public SetupTaken Took() => new(jobId, device, Started);

    /// <summary>The device began the ring: the acknowledgement of <see cref="StartRing"/> (or of a re-created device's setup).</summary>
    public SetupTaken Began()
    {
        Started = true;
        return new SetupTaken(jobId, device, true);
    }

    /// <summary>The device's result as it is sent, kept to be sent again on a repeated <see cref="StartRing"/>.</summary>
    public ChunkCompleted Reported(ChunkCompleted result)
    {
        ArgumentNullException.ThrowIfNull(result);
        _result ??= result;
        return _result;
    }

    /// <summary>The device's backward result as it is sent, kept to be sent again on a repeated <see cref="StartBackward"/>.</summary>
    public GradientsCompleted ReportedGradients(GradientsCompleted result)
    {
        ArgumentNullException.ThrowIfNull(result);
        _gradients ??= result;
        return _gradients;
    }

    /// <summary>The answer to a repeated <see cref="StartBackward"/> or backward setup: the acknowledgement, then the gradients once there are some.</summary>
    public IReadOnlyList<IRingMessage> RepeatBackward() =>
        _gradients is { } result ? [new SetupTaken(jobId, device, Started), result] : [new SetupTaken(jobId, device, Started)];

    /// <summary>The answer to a repeated setup or <see cref="StartRing"/>: the acknowledgement, then the result once there is one.</summary>
    public IReadOnlyList<IRingMessage> Repeat() =>
        _result is { } result ? [new SetupTaken(jobId, device, Started), result] : [new SetupTaken(jobId, device, Started)];
}
