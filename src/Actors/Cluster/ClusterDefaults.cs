using Akka.Configuration;

namespace RingActors.Actors.Cluster;

/// <summary>The embedded cluster-reference.conf: transport caps, TLS trust, the ring serializer's binding, remoting and downing defaults.</summary>
public static class ClusterDefaults
{
    private const string Resource = "RingActors.Actors.cluster-reference.conf";

    /// <summary>The ring's own reference.conf (compute dispatcher, ring settings), when the assembly embeds one.</summary>
    private const string RingResource = "RingActors.Actors.reference.conf";

    /// <summary>cluster-reference.conf, parsed once.</summary>
    public static Config Config { get; } = Load(Resource) ?? throw new InvalidOperationException($"embedded resource {Resource} is missing");

    /// <summary>cluster-reference.conf with the ring's reference.conf behind it: the complete defaults of a node.</summary>
    public static Config NodeDefaults { get; } = Load(RingResource) is { } ring ? Config.WithFallback(ring) : Config;

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
