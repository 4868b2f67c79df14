using RingActors.Actors.Protocol;
using static RingActors.Actors.Protocol.GradientProtocol;

namespace RingActors.Actors;

/// <summary>
/// What the supervisor knows of the backward pass (plain class, the backward's <see cref="ChunkCollector"/>): blocks computed
/// per device and each device's gradients. A re-created device starts its count again; a result already in stays.
/// </summary>
public sealed class GradientCollector(int devices)
{
    private readonly GradientsCompleted?[] _results = new GradientsCompleted?[devices];
    private readonly int[] _blocksDone = new int[devices];

    public int Devices => devices;

    /// <summary>Backward blocks computed (or skipped) over all devices.</summary>
    public int BlocksDone => _blocksDone.Sum();

    /// <summary>Devices whose gradients are in.</summary>
    public int Done => _results.Count(r => r is not null);

    public bool AllIn => _results.All(r => r is not null);

    /// <summary>The results, device by device; only once <see cref="AllIn"/>.</summary>
    public IReadOnlyList<GradientsCompleted> Results => AllIn ? _results.Select(r => r!).ToArray() : throw new InvalidOperationException($"{Done} of {devices} gradients are in");

    public int BlocksDoneBy(int device) => _blocksDone[device];

    public bool HasResult(int device) => _results[device] is not null;

    /// <summary>A backward block computed by <paramref name="device"/>; false for a device outside the ring.</summary>
    public bool BlockComputed(int device)
    {
        if ((uint)device >= (uint)devices)
        {
            return false;
        }

        _blocksDone[device]++;
        return true;
    }

    /// <summary>The gradients of <paramref name="result"/>'s device; false for a device outside the ring or a second result.</summary>
    public bool Finished(GradientsCompleted result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if ((uint)result.Device >= (uint)devices || _results[result.Device] is not null)
        {
            return false;
        }

        _results[result.Device] = result;
        return true;
    }

    /// <summary>Device <paramref name="device"/> was re-created during the backward: its count starts again.</summary>
    public void Restarted(int device) => _blocksDone[device] = 0;

    /// <summary>The devices still running their backward, with their counts, for a deadline's reason.</summary>
    public string StillRunning() =>
        string.Join(", ", Enumerable.Range(0, devices).Where(r => _results[r] is null).Select(r => $"{r} ({_blocksDone[r]}/{devices})"));

    /// <summary>The statistics of every device's backward, device by device; only once <see cref="AllIn"/>.</summary>
    public IReadOnlyList<DeviceStats> Stats => [.. Results.Select(r => r.Stats)];
}
