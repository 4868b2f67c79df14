using Akka.Actor;
using Akka.Configuration;

namespace RingActors.Actors.Configuration;

/// <summary>The HOCON of RingActors.Actors: the embedded reference.conf and the local single-process deployment (hocon/local.conf).</summary>
public static class RingActorsConfig
{
    public const string ReferenceResource = "RingActors.Actors.reference.conf";
    public const string LocalResource = "RingActors.Actors.local.conf";

    private static readonly Lazy<Config> ReferenceConfig = new(() => Load(ReferenceResource));
    private static readonly Lazy<Config> LocalConfig = new(() => Load(LocalResource));

    /// <summary>The defaults: <c>ring-actors { … }</c> from reference.conf.</summary>
    public static Config Reference => ReferenceConfig.Value;

    /// <summary>
    /// Configuration for an ActorSystem that runs the ring in this process: <paramref name="overrides"/> (may be null),
    /// then hocon/local.conf, then reference.conf.
    /// </summary>
    public static Config Local(Config? overrides = null) =>
        (overrides ?? Config.Empty).WithFallback(LocalConfig.Value).WithFallback(Reference);

    /// <summary><see cref="Local(Config?)"/> with overrides given as HOCON text.</summary>
    public static Config Local(string overrides) => Local(ConfigurationFactory.ParseString(overrides));

    /// <summary>Makes sure a system created without <see cref="Local(Config?)"/> still sees the ring-actors defaults (and the compute dispatcher).</summary>
    public static void EnsureLoaded(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        if (!system.Settings.Config.HasPath($"{RingActorsSettings.DefaultComputeDispatcher}.type"))
        {
            system.Settings.InjectTopLevelFallback(Reference);
        }
    }

    private static Config Load(string resource)
    {
        using var stream = typeof(RingActorsConfig).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"embedded resource {resource} is missing from {typeof(RingActorsConfig).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
