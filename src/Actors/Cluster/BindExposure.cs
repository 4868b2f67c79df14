using System.Net;

namespace RingActors.Actors.Cluster;

/// <summary>
/// Whether a node may bind where it is told, with no Akka: loopback is always allowed; any other address (0.0.0.0, a LAN
/// IP, a host name) only with TLS, or when the operator said <c>--insecure</c> (then the node warns once). Without TLS
/// anyone who reaches the port can join, declare itself a device or coordinator, and send any node orders (docs/security.md).
/// </summary>
public static class BindExposure
{
    /// <summary>Whether <paramref name="host"/> is a loopback address or "localhost"; an empty host binds every interface.</summary>
    public static bool IsLoopback(string? host)
    {
        if (string.IsNullOrWhiteSpace(host))
        {
            return false;
        }

        var trimmed = host.Trim().Trim('[', ']');
        if (string.Equals(trimmed, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(trimmed, out var address) && IPAddress.IsLoopback(address);
    }

    /// <summary>
    /// Null when binding <paramref name="host"/> is fine as it is; otherwise the one line that refuses it, or (with
    /// <paramref name="insecure"/>) the one warning to print. <paramref name="refused"/> says which.
    /// </summary>
    public static string? Check(string? host, bool tls, bool insecure, out bool refused)
    {
        refused = false;
        if (tls || IsLoopback(host))
        {
            return null;
        }

        var where = string.IsNullOrWhiteSpace(host) ? "every interface" : host;
        if (insecure)
        {
            return $"binding {where} without TLS (--insecure): anyone who reaches this port can join the cluster, be placed devices and send this node orders";
        }

        refused = true;
        return $"refusing to bind {where} without TLS: anyone who reaches the port could join and send orders; give --tls-cert with --tls-ca or --tls-trust (docs/security.md), bind 127.0.0.1, or accept the risk with --insecure";
    }
}
