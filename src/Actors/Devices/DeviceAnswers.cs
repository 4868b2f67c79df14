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
/// <param name="resultRepeatAfter">
/// How long after sending a result the device sends it again on a repeated request. A request that soon is most likely the
/// watchdog not yet having heard a large result still on its way (a loaded machine), and a copy would double its bytes.
/// </param>
public sealed class DeviceAnswers(string jobId, int device, TimeSpan resultRepeatAfter)
{
    private ChunkCompleted? _result;
    private GradientsCompleted? _gradients;
    private TimeSpan _reportedAt;
    private long _startedAt;

    /// <summary>Whether the device runs the ring (took <see cref="StartRing"/>, or was re-created and started at once).</summary>
    public bool Started { get; private set; }

    /// <summary>The acknowledgement of the setup: the chunk is held, the ring not yet started.</summary>
    public SetupTaken Took() => new(jobId, device, Started, _startedAt);

    /// <summary>The device began the ring at <paramref name="now"/> (its Stopwatch): the acknowledgement of <see cref="StartRing"/> (or of a re-created device's setup).</summary>
    public SetupTaken Began(long now)
    {
        Started = true;
        _startedAt = now;
        return Took();
    }

    /// <summary>The device's result as it is sent, kept to be sent again on a repeated <see cref="StartRing"/>.</summary>
    public ChunkCompleted Reported(ChunkCompleted result, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(result);
        _reportedAt = now;
        _result ??= result;
        return _result;
    }

    /// <summary>The device's backward result as it is sent, kept to be sent again on a repeated <see cref="StartBackward"/>.</summary>
    public GradientsCompleted ReportedGradients(GradientsCompleted result, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(result);
        _reportedAt = now;
        _gradients ??= result;
        return _gradients;
    }

    /// <summary>The answer to a repeated <see cref="StartBackward"/> or backward setup: the acknowledgement, then the gradients once there are some.</summary>
    public IReadOnlyList<IRingMessage> RepeatBackward(TimeSpan now) => Answer(_gradients, now);

    /// <summary>The answer to a repeated setup or <see cref="StartRing"/>: the acknowledgement, then the result once there is one.</summary>
    public IReadOnlyList<IRingMessage> Repeat(TimeSpan now) => Answer(_result, now);

    private IReadOnlyList<IRingMessage> Answer(IRingMessage? result, TimeSpan now)
    {
        if (result is null || now - _reportedAt < resultRepeatAfter)
        {
            return [Took()];
        }

        _reportedAt = now;
        return [Took(), result];
    }
}
