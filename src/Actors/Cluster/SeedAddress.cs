using Akka.Actor;

namespace RingActors.Actors.Cluster;

/// <summary>Parses and checks the address of a seed node: <c>akka.tcp://ring@HOST:PORT</c>, or <c>akka.ssl.tcp://…</c> with TLS.</summary>
public static class SeedAddress
{
    public const string TcpProtocol = "akka.tcp";

    public const string TlsProtocol = "akka.ssl.tcp";

    /// <summary>The address, or an <see cref="ArgumentException"/> saying what is wrong with <paramref name="text"/>.</summary>
    public static Address Parse(string? text, string parameter = "seed")
    {
        if (string.IsNullOrWhiteSpace(text) || !ActorPath.TryParseAddress(text.Trim(), out var address))
        {
            throw new ArgumentException($"seed '{text}' is not an address like {TcpProtocol}://{ClusterNode.SystemName}@127.0.0.1:4053", parameter);
        }

        if (address.Protocol is not (TcpProtocol or TlsProtocol))
        {
            throw new ArgumentException($"seed '{text}' uses protocol '{address.Protocol}', expected {TcpProtocol} or {TlsProtocol}", parameter);
        }

        if (address.System != ClusterNode.SystemName)
        {
            throw new ArgumentException($"seed '{text}' names actor system '{address.System}', ring nodes are '{ClusterNode.SystemName}'", parameter);
        }

        if (string.IsNullOrEmpty(address.Host) || address.Port is not (>= 1 and <= 65535))
        {
            throw new ArgumentException($"seed '{text}' needs a host and a port in [1, 65535]", parameter);
        }

        if (!string.Equals(address.ToString(), text.Trim().TrimEnd('/'), StringComparison.Ordinal))
        {
            throw new ArgumentException($"seed '{text}' must be an address only (no actor path), e.g. {address}", parameter);
        }

        return address;
    }
}
