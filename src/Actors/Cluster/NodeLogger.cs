using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Event;

namespace RingActors.Actors.Cluster;

/// <summary>
/// The Akka logger of a cluster node (registered through <c>akka.loggers</c> by <see cref="ClusterNode"/>): every log
/// event becomes one line on stderr (<see cref="NodeLogFormat.ConsoleLine"/>) and, when <c>ring-actors.log.file</c>
/// names a file, the full event with its stack trace is appended there (<see cref="NodeLogFormat.Full"/>). Events of Akka's
/// transport layer, which any peer can provoke, are written once per kind (<see cref="TransportNoise"/>).
/// </summary>
public sealed class NodeLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    /// <summary>Where the full events go: empty for nowhere (only the console's one line).</summary>
    public const string FileKey = "ring-actors.log.file";

    private readonly TransportNoise _noise = new();
    private StreamWriter? _file;

    public NodeLogger()
    {
        Receive<InitializeLogger>(_ =>
        {
            _file = Open(Context.System.Settings.Config.GetString(FileKey, string.Empty));
            Sender.Tell(new LoggerInitialized());
        });
        Receive<LogEvent>(logEvent =>
        {
            if (!_noise.Admit(logEvent))
            {
                return;
            }

            Console.Error.WriteLine(NodeLogFormat.ConsoleLine(logEvent));
            _file?.WriteLine(NodeLogFormat.Full(logEvent));
        });
    }

    /// <summary>
    /// Registers this logger, and <see cref="NodeStdoutLogger"/> for the moments before it starts and after it stops.
    /// Sits below the config file, so a deployment can still choose another logger.
    /// </summary>
    public static Config Config { get; } = ConfigurationFactory.ParseString($"""
        akka.loggers = ["{typeof(NodeLogger).FullName}, {typeof(NodeLogger).Assembly.GetName().Name}"]
        akka.stdout-logger-class = "{typeof(NodeStdoutLogger).FullName}, {typeof(NodeStdoutLogger).Assembly.GetName().Name}"
        """);

    protected override void PostStop()
    {
        _file?.Dispose();
        _file = null;
        base.PostStop();
    }

    private static StreamWriter? Open(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }

        // Appended, so a restarted node keeps the earlier run's detail; flushed per event, so a killed node loses none.
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        return new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { AutoFlush = true };
    }
}

/// <summary>
/// Akka's logger for the start-up and shutdown of an actor system, before <see cref="NodeLogger"/> runs and after it
/// has stopped (<c>akka.stdout-logger-class</c>): the same one line on stderr, never a stack trace.
/// </summary>
public sealed class NodeStdoutLogger : MinimalLogger
{
    protected override void Log(object message)
    {
        var line = message is LogEvent logEvent ? NodeLogFormat.ConsoleLine(logEvent) : NodeLogFormat.OneLine(message.ToString() ?? string.Empty);
        Console.Error.WriteLine(line);
    }
}
