using System.Globalization;

namespace RingActors.Host.Benchmarks;

/// <summary>
/// A process's I/O counters from /proc/PID/io: rchar and wchar count every byte it read or wrote through a system call
/// (sockets, pipes and files alike), so for a node that only talks to its peer they bound its network traffic from above.
/// </summary>
public readonly record struct ProcessIo(long ReadChars, long WriteChars)
{
    public static ProcessIo operator -(ProcessIo after, ProcessIo before) => new(after.ReadChars - before.ReadChars, after.WriteChars - before.WriteChars);

    /// <summary>Parses the "key: value" lines of /proc/PID/io; a counter that is missing is 0.</summary>
    public static ProcessIo Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        long read = 0, write = 0;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0 || !long.TryParse(line.AsSpan(colon + 1).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }

            switch (line[..colon])
            {
                case "rchar":
                    read = value;
                    break;
                case "wchar":
                    write = value;
                    break;
            }
        }

        return new ProcessIo(read, write);
    }

    /// <summary>The counters of process <paramref name="pid"/>, or null where /proc/PID/io cannot be read (not Linux, not ours).</summary>
    public static ProcessIo? Read(int pid)
    {
        try
        {
            return Parse(File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/io"));
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
