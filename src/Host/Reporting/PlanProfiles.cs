using System.Globalization;
using System.Text.Json;
using Akka.Configuration;
using RingActors.Math.Modelling;

namespace RingActors.Host.Reporting;

/// <summary>
/// Device profiles from files: JSON (<see cref="ProfileCatalog.LoadJson"/>) or HOCON (<c>.conf</c>, <c>.hocon</c>) with the
/// same keys, read with Akka's HOCON parser (Math must not reference Akka, so HOCON is read here).
/// </summary>
public static class PlanProfiles
{
    private static readonly string[] TextFields = ["name", "source"];

    /// <summary>Reads the profile in <paramref name="path"/>, HOCON for <c>.conf</c>/<c>.hocon</c>, JSON otherwise.</summary>
    /// <exception cref="ArgumentException">Malformed file, a missing, unknown or invalid field; the message names the file.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static DeviceProfile Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (Directory.Exists(path))
        {
            throw new ArgumentException($"{path} is a directory, not a profile file", nameof(path));
        }

        if (!File.Exists(path))
        {
            throw new ArgumentException($"profile file {path} does not exist", nameof(path));
        }

        var extension = Path.GetExtension(path).ToUpperInvariant();
        return extension is ".CONF" or ".HOCON" ? FromHocon(File.ReadAllText(path), path) : ProfileCatalog.LoadJson(path);
    }

    /// <summary>
    /// A profile from HOCON text with the JSON keys (<c>peakFlops = 312e12</c>, …): the top-level values are turned into
    /// a JSON object and read by <see cref="ProfileCatalog.FromJson"/>, so both formats obey the same rules.
    /// </summary>
    public static DeviceProfile FromHocon(string text, string source = "<hocon>")
    {
        Config config;
        try
        {
            config = ConfigurationFactory.ParseString(text);
        }
        catch (Exception error) when (error is ConfigurationException or FormatException or InvalidOperationException)
        {
            throw new ArgumentException($"{source}: not valid HOCON ({error.Message.Split('\n')[0].Trim()})", nameof(text));
        }

        var items = config.IsEmpty || config.Root is null || !config.Root.IsObject()
            ? new Dictionary<string, Akka.Configuration.Hocon.HoconValue>()
            : config.Root.GetObject().Items;
        var json = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (key, value) in items)
        {
            if (value.IsObject() || value.IsArray())
            {
                throw new ArgumentException($"{source}: field '{key}' must be a single value, got {value.ToString().Trim()}", key);
            }

            var raw = value.GetString();
            if (TextFields.Contains(key, StringComparer.Ordinal) || !double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                json[key] = raw ?? string.Empty;
            }
            else
            {
                // JSON has no NaN or infinity: refuse them here, with the file and the field.
                json[key] = double.IsFinite(number) ? number : throw new ArgumentException($"{source}: field '{key}' must be a finite number, got {raw}", key);
            }
        }

        return ProfileCatalog.FromJson(JsonSerializer.Serialize(json), source);
    }
}
