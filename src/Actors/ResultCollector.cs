namespace RingActors.Actors;

/// <summary>
/// What the supervisor knows of one pass of the ring (plain class): blocks done per device and each device's result — a
/// <c>ChunkCompleted</c> for the forward, a <c>GradientsCompleted</c> for the backward. A re-created device starts its count
/// again; a result already in stays (the others' results do not depend on it), and a second result of a device is refused.
/// </summary>
/// <param name="deviceOf">The device a result is from.</param>
public sealed class ResultCollector<TResult>(int devices, Func<TResult, int> deviceOf)
    where TResult : class
{
    private readonly TResult?[] _results = new TResult?[devices];
    private readonly int[] _blocksDone = new int[devices];

    public int Devices => devices;

    /// <summary>Blocks done (or skipped) over all devices.</summary>
    public int BlocksDone => _blocksDone.Sum();

    /// <summary>Devices whose result is in.</summary>
    public int Done => _results.Count(r => r is not null);

    /// <summary>Whether every device has reported its result.</summary>
    public bool AllIn => _results.All(r => r is not null);

    /// <summary>The results, device by device; only once <see cref="AllIn"/>.</summary>
    public IReadOnlyList<TResult> Results => AllIn ? _results.Select(r => r!).ToArray() : throw new InvalidOperationException($"{Done} of {devices} results are in");

    /// <summary>Blocks device <paramref name="device"/> has done (in its current incarnation).</summary>
    public int BlocksDoneBy(int device) => _blocksDone[device];

    public bool HasResult(int device) => _results[device] is not null;

    public TResult? ResultOf(int device) => _results[device];

    /// <summary>A block done by <paramref name="device"/>; false for a device index outside the ring.</summary>
    public bool BlockDone(int device)
    {
        if ((uint)device >= (uint)devices)
        {
            return false;
        }

        _blocksDone[device]++;
        return true;
    }

    /// <summary>The result of its device; false for a device outside the ring or a second result.</summary>
    public bool Finished(TResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var device = deviceOf(result);
        if ((uint)device >= (uint)devices || _results[device] is not null)
        {
            return false;
        }

        _results[device] = result;
        return true;
    }

    /// <summary>Device <paramref name="device"/> was re-created: its count starts again.</summary>
    public void Restarted(int device) => _blocksDone[device] = 0;

    /// <summary>The devices still running, with their counts, for a deadline's reason.</summary>
    public string StillRunning() =>
        string.Join(", ", Enumerable.Range(0, devices).Where(r => _results[r] is null).Select(r => $"{r} ({_blocksDone[r]}/{devices})"));
}
