using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace RingActors.Host.Benchmarks;

/// <summary>One TCP socket end as <c>ss -tin</c> reports it: its endpoints and the kernel's byte counters (tcp_info).</summary>
/// <param name="BytesSent">Payload bytes the kernel sent on this end, retransmissions included (tcpi_bytes_sent).</param>
/// <param name="BytesAcked">Bytes the peer acknowledged (tcpi_bytes_acked).</param>
/// <param name="BytesReceived">Payload bytes this end received (tcpi_bytes_received).</param>
/// <param name="Pid">The process that owns this end, when ss was asked for processes (-p) and could tell; else null.</param>
public sealed record TcpSocket(IPEndPoint Local, IPEndPoint Peer, long BytesSent, long BytesAcked, long BytesReceived, int? Pid = null)
{
    /// <summary>The connection end, as a key that stays the same between two readings.</summary>
    public (IPEndPoint Local, IPEndPoint Peer) Key => (Local, Peer);
}

/// <summary>
/// The kernel's view of the bytes between processes, read from <c>ss -tin</c> (iproute2): parsing is pure so it can be
/// tested on canned output and reused by any multi-process test that checks the application's byte accounting from outside.
/// </summary>
public static class TcpSockets
{
    /// <summary>
    /// Parses <c>ss -tin</c> (with or without the header, -H): a line per socket (state, queues, local, peer) followed by an
    /// indented line of tcp_info fields. Counters a kernel does not report are 0; sockets whose endpoints do not parse are skipped.
    /// </summary>
    public static IReadOnlyList<TcpSocket> Parse(string ssOutput)
    {
        ArgumentNullException.ThrowIfNull(ssOutput);
        var sockets = new List<TcpSocket>();
        (IPEndPoint Local, IPEndPoint Peer)? pending = null;
        int? pid = null;
        foreach (var raw in ssOutput.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line.StartsWith("State", StringComparison.Ordinal))
            {
                continue;
            }

            if (!char.IsWhiteSpace(line[0]))
            {
                if (pending is { } previous)
                {
                    sockets.Add(new TcpSocket(previous.Local, previous.Peer, 0, 0, 0, pid));
                }

                pending = ParseEndpoints(line);
                pid = Owner(line);
                continue;
            }

            if (pending is { } socket)
            {
                sockets.Add(new TcpSocket(socket.Local, socket.Peer, Counter(line, "bytes_sent"), Counter(line, "bytes_acked"), Counter(line, "bytes_received"), pid));
                pending = null;
            }
        }

        if (pending is { } last)
        {
            sockets.Add(new TcpSocket(last.Local, last.Peer, 0, 0, 0, pid));
        }

        return sockets;
    }

    /// <summary>
    /// The ends of the connections a process owns that talk to one peer process, told apart by ports alone: ends bound to
    /// <paramref name="ownPort"/> (connections the peer opened to our listening port) and ends whose peer is
    /// <paramref name="peerPort"/> (connections we opened to the peer's). Each connection is counted once, at our end.
    /// </summary>
    public static IReadOnlyList<TcpSocket> EndsOf(IEnumerable<TcpSocket> sockets, int ownPort, int peerPort) =>
        [.. sockets.Where(s => (s.Local.Port == ownPort && s.Peer.Port != ownPort) || (s.Peer.Port == peerPort && s.Local.Port != peerPort))];

    /// <summary>
    /// What moved between two readings: the counters of <paramref name="after"/> minus those of the same end in
    /// <paramref name="before"/> (an end that is new counts in full; one that closed in between is lost, which is why
    /// the benchmark keeps its connections open).
    /// </summary>
    public static TcpTraffic Between(IEnumerable<TcpSocket> before, IEnumerable<TcpSocket> after)
    {
        var earlier = before.GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.First());
        long sent = 0, acked = 0, received = 0;
        var connections = 0;
        foreach (var end in after)
        {
            earlier.TryGetValue(end.Key, out var start);
            sent += end.BytesSent - (start?.BytesSent ?? 0);
            acked += end.BytesAcked - (start?.BytesAcked ?? 0);
            received += end.BytesReceived - (start?.BytesReceived ?? 0);
            connections++;
        }

        return new TcpTraffic(sent, acked, received, connections);
    }

    /// <summary>
    /// Bytes each process sent to each other process between two readings taken with owners (<see cref="Read"/> with
    /// processes): an end's sent bytes go from its owner to the owner of the connection's other end, which on loopback ss
    /// lists too. Ends without an owner, or whose other end is not listed, are left out.
    /// </summary>
    public static IReadOnlyDictionary<(int From, int To), long> Flows(IEnumerable<TcpSocket> before, IEnumerable<TcpSocket> after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var earlier = before.GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.First());
        var now = after.ToList();
        var owners = now.Where(s => s.Pid is not null).GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.First().Pid!.Value);
        var flows = new Dictionary<(int, int), long>();
        foreach (var end in now)
        {
            if (end.Pid is not { } from || !owners.TryGetValue((end.Peer, end.Local), out var to) || from == to)
            {
                continue;
            }

            var sent = end.BytesSent - (earlier.TryGetValue(end.Key, out var previous) ? previous.BytesSent : 0);
            flows[(from, to)] = flows.GetValueOrDefault((from, to)) + System.Math.Max(0, sent);
        }

        return flows;
    }

    /// <summary>
    /// Runs <c>ss -tinH</c> (<c>-tinpH</c> with <paramref name="processes"/>: each end's owning process, which needs the
    /// right to see other processes' sockets) and parses it; null when ss is missing or fails (the caller then says so).
    /// </summary>
    public static IReadOnlyList<TcpSocket>? Read(bool processes = false)
    {
        try
        {
            var start = new ProcessStartInfo("ss", [processes ? "-tinpH" : "-tinH", "state", "established"])
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start);
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEndAsync();
            process.StandardError.ReadToEnd();
            if (!process.WaitForExit(10_000) || process.ExitCode != 0)
            {
                return null;
            }

            return Parse(output.Result);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>The first pid of the Process column (users:(("dotnet",pid=1234,fd=201))), or null.</summary>
    private static int? Owner(string line)
    {
        var at = line.IndexOf("pid=", StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var end = at + 4;
        while (end < line.Length && char.IsAsciiDigit(line[end]))
        {
            end++;
        }

        return int.TryParse(line.AsSpan(at + 4, end - at - 4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid) ? pid : null;
    }

    private static (IPEndPoint, IPEndPoint)? ParseEndpoints(string line)
    {
        // "ESTAB 0 0 127.0.0.1:4053 127.0.0.1:51234" or, with a state filter, the state column missing: the last two
        // fields that parse as endpoints (a Process column, with -p, comes after them).
        var endpoints = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(field => IPEndPoint.TryParse(Unbracket(field), out var endpoint) && field.Contains(':', StringComparison.Ordinal) ? endpoint : null)
            .Where(endpoint => endpoint is not null)
            .ToArray();
        return endpoints.Length >= 2 ? (endpoints[0]!, endpoints[1]!) : null;
    }

    /// <summary>ss prints IPv6 as [::1]:port and IPv4-mapped ones as [::ffff:127.0.0.1]:port, which IPEndPoint parses; a scope (%lo) it does not.</summary>
    private static string Unbracket(string field)
    {
        var percent = field.IndexOf('%', StringComparison.Ordinal);
        var close = field.IndexOf(']', StringComparison.Ordinal);
        return percent >= 0 && close > percent ? field[..percent] + field[close..] : field;
    }

    private static long Counter(string line, string name)
    {
        var key = name + ":";
        var index = line.IndexOf(key, StringComparison.Ordinal);
        while (index > 0 && !char.IsWhiteSpace(line[index - 1]))
        {
            index = line.IndexOf(key, index + 1, StringComparison.Ordinal);
        }

        if (index < 0)
        {
            return 0;
        }

        var start = index + key.Length;
        var end = start;
        while (end < line.Length && char.IsAsciiDigit(line[end]))
        {
            end++;
        }

        return long.TryParse(line.AsSpan(start, end - start), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;
    }
}

/// <summary>Bytes the kernel moved on a set of connection ends between two readings.</summary>
public readonly record struct TcpTraffic(long BytesSent, long BytesAcked, long BytesReceived, int Connections);
