using System.Globalization;

namespace RingActors.Host.Reporting;

/// <summary>Human-readable numbers for report tables (invariant culture, so reports read the same everywhere).</summary>
public static class Units
{
    public static string Bytes(double bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        var unit = 0;
        while (System.Math.Abs(bytes) >= 1024 && unit < units.Length - 1)
        {
            bytes /= 1024;
            unit++;
        }

        return unit == 0 ? $"{bytes:0} B" : string.Create(CultureInfo.InvariantCulture, $"{bytes:0.0} {units[unit]}");
    }

    public static string Count(double value)
    {
        string[] units = ["", "K", "M", "G", "T", "P"];
        var unit = 0;
        while (System.Math.Abs(value) >= 1000 && unit < units.Length - 1)
        {
            value /= 1000;
            unit++;
        }

        return unit == 0 ? value.ToString("0", CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{value:0.00}{units[unit]}");
    }

    public static string Seconds(double seconds) =>
        seconds switch
        {
            < 1e-3 => string.Create(CultureInfo.InvariantCulture, $"{seconds * 1e6:0.0} µs"),
            < 1 => string.Create(CultureInfo.InvariantCulture, $"{seconds * 1e3:0.0} ms"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{seconds:0.00} s"),
        };

    public static string Error(double value) =>
        double.IsFinite(value) ? value.ToString("0.00e+00", CultureInfo.InvariantCulture) : "not finite";

    public static string Ratio(double value) => double.IsFinite(value) ? value.ToString("0.00", CultureInfo.InvariantCulture) : "–";

    public static string Percent(double fraction) => double.IsFinite(fraction) ? fraction.ToString("0.0%", CultureInfo.InvariantCulture) : "–";

    public static string Fixed(double value, int decimals) => value.ToString("F" + decimals, CultureInfo.InvariantCulture);
}
