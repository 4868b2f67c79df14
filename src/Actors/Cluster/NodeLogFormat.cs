using System.Globalization;
using System.Text.RegularExpressions;
using Akka.Event;

namespace RingActors.Actors.Cluster;

/// <summary>
/// How a node writes Akka's log events: <see cref="ConsoleLine"/> is one line for a user's console (level, time, the
/// logging class, the message, the cause's type and message, never a stack trace); <see cref="Full"/> is Akka's own
/// rendering with the cause's stack trace, for the log file.
/// </summary>
public static partial class NodeLogFormat
{
    /// <summary>
    /// One line: <c>[WARNING 19:59:51Z EndpointWriter] message (SocketException: Connection refused)</c>. Line breaks
    /// in the message or the cause become spaces, so every event is exactly one line; stack frames that Akka puts
    /// into a message's text (remoting's "Caused by: [...]") are left out.
    /// </summary>
    public static string ConsoleLine(LogEvent logEvent)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        var level = logEvent.LogLevel() switch
        {
            LogLevel.DebugLevel => "DEBUG",
            LogLevel.InfoLevel => "INFO",
            LogLevel.WarningLevel => "WARNING",
            _ => "ERROR",
        };
        var time = logEvent.Timestamp.ToString("HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var source = Source(logEvent);
        var line = $"[{level} {time}{source}] {WithoutStackFrames(Message(logEvent))}";
        if (logEvent.Cause is { } cause)
        {
            line += $" ({Describe(cause)})";
        }

        return OneLine(line);
    }

    /// <summary>Akka's rendering of the event: level, timestamp, thread, source path, message, and the cause with its stack trace.</summary>
    public static string Full(LogEvent logEvent)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        try
        {
            return logEvent.ToString();
        }
        catch (FormatException error)
        {
            // A log call whose arguments do not match its format string: keep the event rather than lose it.
            return $"{ConsoleLine(logEvent)} [unformattable message: {error.Message}]{Environment.NewLine}{logEvent.Cause}";
        }
    }

    /// <summary>Text on several lines joined into one, each line trimmed and empty ones dropped.</summary>
    public static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>The text without its stack-frame lines ("   at Type.Method(...)", "--- End of stack trace ... ---"), keeping a bracket that closed on one.</summary>
    private static string WithoutStackFrames(string text)
    {
        if (!text.Contains('\n', StringComparison.Ordinal))
        {
            return text;
        }

        var kept = new List<string>();
        foreach (var line in text.Split('\n'))
        {
            if (!StackFrame().IsMatch(line))
            {
                kept.Add(line);
            }
            else if (line.TrimEnd().EndsWith(']') && kept.Count > 0)
            {
                kept[^1] = kept[^1].TrimEnd() + "]";
            }
        }

        return string.Join('\n', kept);
    }

    [GeneratedRegex(@"^\s*(at [^\s(]+\(.*|--- End of .*---.*)$")]
    private static partial Regex StackFrame();

    private static string Message(LogEvent logEvent)
    {
        try
        {
            return logEvent.Message?.ToString() ?? string.Empty;
        }
        catch (FormatException)
        {
            return logEvent.Message is LogMessage message ? message.Format : "(unformattable log message)";
        }
    }

    /// <summary>The cause's type and message, and its innermost exception's when that is another one (the socket error under a remoting failure).</summary>
    private static string Describe(Exception cause)
    {
        var text = $"{cause.GetType().Name}: {cause.Message}";
        var root = cause.GetBaseException();
        return ReferenceEquals(root, cause) || cause.Message.Contains(root.Message, StringComparison.Ordinal)
            ? text
            : $"{text} ← {root.GetType().Name}: {root.Message}";
    }

    /// <summary>
    /// The logging class (EndpointWriter, ClusterCoreDaemon); for events logged with a string source, whose class is a
    /// placeholder, the source's first word ("remoting" of "remoting (akka://ring)").
    /// </summary>
    private static string Source(LogEvent logEvent)
    {
        if (logEvent.LogClass is { } type && type != typeof(DummyClassForStringSources))
        {
            return " " + ShortName(type);
        }

        var words = logEvent.LogSource?.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
        return words is { Length: > 0 } ? " " + words[0] : string.Empty;
    }

    /// <summary>A generic logging class (EndpointWriter`1) without its arity, so the line reads like the class name.</summary>
    private static string ShortName(Type type)
    {
        var tick = type.Name.IndexOf('`', StringComparison.Ordinal);
        return tick > 0 ? type.Name[..tick] : type.Name;
    }
}
