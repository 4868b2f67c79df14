using System.Text.RegularExpressions;
using Akka.Event;

namespace RingActors.Actors.Cluster;

/// <summary>
/// Which log events of Akka's transport layer a node writes (plain class): a peer can make remoting log at will — garbage
/// bytes on the port, a frame over maximum-frame-size, a message that does not decode, one connection after another — so
/// events from <c>Akka.Remote.*</c> are written once per kind (level, logging class, cause type and the message with its
/// addresses, ids and numbers left out), at most <see cref="MaxKinds"/> kinds; every other event is written as it comes.
/// </summary>
public sealed partial class TransportNoise
{
    /// <summary>Distinct kinds written before the transport's events are no longer written at all.</summary>
    public const int MaxKinds = 256;

    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

    /// <summary>Events not written so far because their kind was.</summary>
    public long Suppressed { get; private set; }

    /// <summary>Whether <paramref name="logEvent"/> is to be written.</summary>
    public bool Admit(LogEvent logEvent)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        if (logEvent.LogClass?.Namespace?.StartsWith("Akka.Remote", StringComparison.Ordinal) != true)
        {
            return true;
        }

        if (_seen.Count < MaxKinds && _seen.Add(Kind(logEvent)))
        {
            return true;
        }

        Suppressed++;
        return false;
    }

    /// <summary>The kind of a transport event: what stays the same when another peer or connection causes it again.</summary>
    public static string Kind(LogEvent logEvent)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        var message = Variable().Replace(logEvent.Message?.ToString() ?? string.Empty, "#");
        return $"{logEvent.LogLevel()} {logEvent.LogClass?.Name} {logEvent.Cause?.GetType().Name} {(message.Length > 120 ? message[..120] : message)}";
    }

    // Bracketed and parenthesised parts (addresses, channel ids), long hex runs, numbers.
    [GeneratedRegex(@"\[[^\]]*\]|\([^)]*\)|[0-9a-fA-F]{6,}|\d+")]
    private static partial Regex Variable();
}
