using Akka.Actor;
using Akka.Configuration;
using RingActors.Actors.Cluster;
using RingActors.Actors.Configuration;

namespace RingActors.Host.Cli;

/// <summary>
/// The actor system of a verb that runs the ring in this process: hocon/local.conf, with Akka's log events written as a
/// cluster node writes them (<see cref="NodeLogger"/>: one line each on stderr, never a stack trace, which Akka's default
/// logger prints for a failing actor) and only errors logged unless <c>overrides</c> say otherwise: a failed job's reason
/// reaches the user as the command's own error line, and the supervisor's warning about it would print it a second time.
/// </summary>
public static class LocalActorSystem
{
    private static readonly Config Defaults = ConfigurationFactory.ParseString("akka.loglevel = ERROR").WithFallback(NodeLogger.Config);

    public static ActorSystem Create(string name, string? overrides = null) =>
        ActorSystem.Create(name, RingActorsConfig.Local(overrides is null ? Defaults : ConfigurationFactory.ParseString(overrides).WithFallback(Defaults)));
}
