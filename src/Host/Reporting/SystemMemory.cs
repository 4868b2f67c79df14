using System.Globalization;

namespace RingActors.Host.Reporting;

/// <summary>Memory figures read from the OS (Linux): what a job may still use, and this process's resident peak.</summary>
public static class SystemMemory
{
    /// <summary>
    /// Bytes available to this process: /proc/meminfo's MemAvailable, lowered by a cgroup limit (v2 memory.max less
    /// memory.current, or v1 limit_in_bytes less usage_in_bytes) when one is set; null where neither can be read.
    /// </summary>
    public static long? Available()
    {
        long? available = ReadMeminfo("MemAvailable");
        foreach (var (limitFile, usageFile) in new[]
        {
            ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
            ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
        })
        {
            if (ReadNumber(limitFile) is { } limit && ReadNumber(usageFile) is { } usage && limit < (1L << 60))
            {
                var left = System.Math.Max(0, limit - usage);
                available = available is { } a ? System.Math.Min(a, left) : left;
                break;
            }
        }

        return available;
    }

    /// <summary>This process's peak resident set (VmHWM of /proc/self/status), or null where it cannot be read.</summary>
    public static long? PeakResident() => ReadStatus("VmHWM");

    /// <summary>This process's resident set now (VmRSS).</summary>
    public static long? Resident() => ReadStatus("VmRSS");

    /// <summary>
    /// Resets the peak resident set to the current one (writing 5 to /proc/self/clear_refs, Linux ≥ 4.0), so that the next
    /// <see cref="PeakResident"/> measures one stage alone; false where the OS does not allow it.
    /// </summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long? ReadStatus(string key) => ReadKeyed("/proc/self/status", key);

    private static long? ReadMeminfo(string key) => ReadKeyed("/proc/meminfo", key);

    /// <summary>A "Key:   123 kB" line of a /proc file, in bytes.</summary>
    private static long? ReadKeyed(string path, string key)
    {
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                if (line.StartsWith(key + ":", StringComparison.Ordinal))
                {
                    var parts = line[(key.Length + 1)..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries); // /proc/self/status pads with tabs, /proc/meminfo with spaces
                    return long.Parse(parts[0], CultureInfo.InvariantCulture) * (parts.Length > 1 && parts[1] == "kB" ? 1024 : 1);
                }
            }
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException)
        {
        }

        return null;
    }

    private static long? ReadNumber(string path)
    {
        try
        {
            return File.Exists(path) && long.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
