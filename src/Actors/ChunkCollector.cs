using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors;

/// <summary>
/// What the supervisor knows of the devices' progress (plain class): blocks merged per device and each finished chunk. A
/// re-created device starts its count again; a result already in stays (the merge of the others does not depend on it).
/// </summary>
public sealed class ChunkCollector(int devices)
{
    private readonly ChunkCompleted?[] _results = new ChunkCompleted?[devices];
    private readonly int[] _blocksDone = new int[devices];

    public int Devices => devices;

    /// <summary>Blocks merged (or skipped) over all devices.</summary>
    public int BlocksDone => _blocksDone.Sum();

    /// <summary>Chunks finished.</summary>
    public int ChunksDone => _results.Count(r => r is not null);

    /// <summary>Whether every device has reported its chunk.</summary>
    public bool AllIn => _results.All(r => r is not null);

    /// <summary>The results, device by device; only once <see cref="AllIn"/>.</summary>
    public IReadOnlyList<ChunkCompleted> Results => AllIn ? _results.Select(r => r!).ToArray() : throw new InvalidOperationException($"{ChunksDone} of {devices} chunks are in");

    /// <summary>Blocks device <paramref name="device"/> has merged (in its current incarnation).</summary>
    public int BlocksDoneBy(int device) => _blocksDone[device];

    public bool HasResult(int device) => _results[device] is not null;

    public ChunkCompleted? ResultOf(int device) => _results[device];

    /// <summary>A block merged by <paramref name="device"/>; false for a device index outside the ring.</summary>
    public bool BlockMerged(int device)
    {
        if ((uint)device >= (uint)devices)
        {
            return false;
        }

        _blocksDone[device]++;
        return true;
    }

    /// <summary>The chunk of <paramref name="result"/>'s device; false for a device outside the ring or a second result.</summary>
    public bool ChunkFinished(ChunkCompleted result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if ((uint)result.Device >= (uint)devices || _results[result.Device] is not null)
        {
            return false;
        }

        _results[result.Device] = result;
        return true;
    }

    /// <summary>Device <paramref name="device"/> was re-created: its count starts again.</summary>
    public void Restarted(int device) => _blocksDone[device] = 0;

    /// <summary>The devices still running, with their counts, for a deadline's reason.</summary>
    public string StillRunning() =>
        string.Join(", ", Enumerable.Range(0, devices).Where(r => _results[r] is null).Select(r => $"{r} ({_blocksDone[r]}/{devices})"));
}
