using System.Net;
using System.Net.Sockets;

namespace RingActors.Actors.Cluster;

/// <summary>
/// Whether a TCP port is taken by a listening socket. Needed because .NET on Linux maps SO_REUSEADDR (which Akka's
/// DotNetty transport sets, tcp-reuse-addr) to SO_REUSEPORT too: a second node on a busy port would bind it silently
/// and share the connections. The probe binds with SO_REUSEADDR alone, which a listener refuses but a port in
/// TIME_WAIT (a node just restarted) does not.
/// </summary>
internal static class PortProbe
{
    // Linux values of SOL_SOCKET and SO_REUSEADDR (asm-generic/socket.h).
    private const int SolSocket = 1;
    private const int SoReuseAddr = 2;

    /// <summary>True when something listens on <paramref name="host"/>:<paramref name="port"/>; false when free or unknown.</summary>
    public static bool IsListening(string host, int port)
    {
        if (port <= 0 || Resolve(host) is not { } address)
        {
            return false;
        }

        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (OperatingSystem.IsLinux())
        {
            socket.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1));
        }

        try
        {
            socket.Bind(new IPEndPoint(address, port));
            return false;
        }
        catch (SocketException error) when (error.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return true;
        }
    }

    private static IPAddress? Resolve(string host)
    {
        if (IPAddress.TryParse(host, out var address))
        {
            return address;
        }

        try
        {
            var addresses = Dns.GetHostAddresses(host);
            return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
