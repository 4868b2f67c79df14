using System.Collections.Concurrent;

namespace RingActors.Actors.Protocol;

/// <summary>
/// Lets a line through the first time its key is seen, then never again: a dropped message or a refused peer is logged once,
/// so a peer that repeats itself cannot fill the log. Holds at most <see cref="Capacity"/> keys; the first key past that gets
/// one line saying that further ones go unlogged, and then it is silent. Thread-safe (TLS callbacks run on I/O threads).
/// </summary>
public sealed class LogOnce
{
    public const int DefaultCapacity = 64;

    private readonly ConcurrentDictionary<string, byte> _seen = new(StringComparer.Ordinal);
    private int _overflowed;

    public LogOnce(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    public int Capacity { get; }

    /// <summary>The line to log for <paramref name="key"/>: <paramref name="line"/> the first time, null after; see the class.</summary>
    public string? Line(string key, string line)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_seen.ContainsKey(key))
        {
            return null;
        }

        if (_seen.Count >= Capacity)
        {
            return Interlocked.Exchange(ref _overflowed, 1) == 0
                ? $"{line} (and {Capacity} kinds of this were logged already: further ones are dropped without a line)"
                : null;
        }

        return _seen.TryAdd(key, 0) ? line : null;
    }
}
