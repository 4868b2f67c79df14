using System.Globalization;

namespace RingActors.Host.Cli;

/// <summary>
/// The upper bounds of numeric options, shared by every verb: beyond them a value would overflow a conversion (seconds to a
/// TimeSpan, P² step tables) or could only be a typo; and the one-line error of a floating-point option out of range.
/// </summary>
public static class OptionLimits
{
    /// <summary>A day: the longest wait or deadline any option may ask for (as ClusterNodeOptions bounds a join timeout).</summary>
    public const int MaxSeconds = 86_400;

    /// <summary>The shortest deadline: a millisecond (TimeSpan would round anything far below it to zero).</summary>
    public const double MinDeadlineSeconds = 0.001;

    /// <summary>Kernel threads: more than any machine this runs on has cores.</summary>
    public const int MaxThreads = 4096;

    /// <summary>Devices of a ring: its P² steps are tables in the supervisor and the planner.</summary>
    public const int MaxDevices = 4096;

    /// <summary>Timed runs behind one measurement.</summary>
    public const int MaxRepeats = 1000;

    /// <summary>Null when <paramref name="value"/> is absent or a finite number in [min, max]; else the one-line error naming the option.</summary>
    public static string? Real(string option, double? value, double min, double max, string unit = "") =>
        value is { } v && !(double.IsFinite(v) && v >= min && v <= max)
            ? $"{option} must be a finite number in [{Show(min)}, {Show(max)}]{unit}, got {Show(v)}"
            : null;

    /// <summary>Null when <paramref name="value"/> is absent or in [min, max]; else the one-line error naming the option.</summary>
    public static string? Whole(string option, long? value, long min, long max) =>
        value is { } v && (v < min || v > max) ? $"{option} must be in [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}], got {v.ToString(CultureInfo.InvariantCulture)}" : null;

    private static string Show(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
