using Akka.Configuration;

namespace RingActors.Actors.Configuration;

/// <summary>The embedded cluster-reference.conf: transport caps, TLS trust, the ring serializer's binding, remoting and downing defaults.</summary>
public static class ClusterDefaults
{
    private const string Resource = "RingActors.Actors.cluster-reference.conf";

    /// <summary>cluster-reference.conf, parsed once.</summary>
    public static Config Config { get; } = Load(Resource) ?? throw new InvalidOperationException($"embedded resource {Resource} is missing");

    /// <summary>cluster-reference.conf with the ring's reference.conf behind it (compute dispatcher, ring settings): the complete defaults of a node.</summary>
    public static Config NodeDefaults { get; } = Config.WithFallback(RingActorsConfig.Reference);

    private static Config? Load(string resource)
    {
        using var stream = typeof(ClusterDefaults).Assembly.GetManifestResourceStream(resource);
        if (stream is null)
        {
            return null;
        }

        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
