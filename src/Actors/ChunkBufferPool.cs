using System.Collections.Concurrent;

namespace RingActors.Actors;

/// <summary>
/// Float buffers of exact lengths kept between jobs, for the supervisor's split (each device's Q chunk and K/V block) and
/// reassembly (output and lse): a ring job of a million tokens otherwise allocates and faults in fresh pages for a full copy
/// of its inputs and outputs every run (ANCHORS.md §5a: about 12 µs per 4 KiB page on these VMs). Exact lengths, unlike
/// <see cref="System.Buffers.ArrayPool{T}"/>, because chunk and block sizes are read from the arrays' lengths. Thread-safe;
/// keeps at most <see cref="MaxRetainedBytes"/>, dropping what would exceed it to the GC.
/// </summary>
public sealed class ChunkBufferPool(long maxRetainedBytes = 4L << 30)
{
    private readonly ConcurrentDictionary<int, ConcurrentBag<float[]>> _free = new();
    private long _retainedBytes;

    /// <summary>One pool for the process's supervisors.</summary>
    public static ChunkBufferPool Shared { get; } = new();

    public long MaxRetainedBytes { get; } = maxRetainedBytes;

    /// <summary>Bytes of the buffers held for reuse now.</summary>
    public long RetainedBytes => Interlocked.Read(ref _retainedBytes);

    /// <summary>A buffer of exactly <paramref name="length"/> floats: a returned one when there is one (contents undefined), else a new one.</summary>
    public float[] Rent(int length)
    {
        if (length < 0)
        {
            throw new ArgumentException($"length must be ≥ 0, got {length}", nameof(length));
        }

        if (length == 0)
        {
            return [];
        }

        if (_free.TryGetValue(length, out var bag) && bag.TryTake(out var buffer))
        {
            Interlocked.Add(ref _retainedBytes, -(long)length * sizeof(float));
            return buffer;
        }

        return new float[length];
    }

    /// <summary>Gives <paramref name="buffer"/> back; nothing may use it afterwards. Kept unless the pool is full.</summary>
    public void Return(float[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        var bytes = (long)buffer.Length * sizeof(float);
        if (buffer.Length == 0 || Interlocked.Add(ref _retainedBytes, bytes) > MaxRetainedBytes)
        {
            if (buffer.Length != 0)
            {
                Interlocked.Add(ref _retainedBytes, -bytes);
            }

            return;
        }

        _free.GetOrAdd(buffer.Length, _ => []).Add(buffer);
    }
}
