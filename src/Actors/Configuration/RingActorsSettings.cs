using Akka.Actor;
using Akka.Configuration;

namespace RingActors.Actors.Configuration;

/// <summary>The <c>ring-actors { … }</c> section of an ActorSystem's configuration (defaults in reference.conf).</summary>
/// <param name="ComputeDispatcher">Dispatcher id of the compute workers.</param>
/// <param name="ComputeThreads">Threads of that dispatcher: blocks computed at once across all devices.</param>
/// <param name="MaxBlocksHeld">Key/value blocks a device may hold at once (≥ 2).</param>
/// <param name="ThreadsPerDevice">Threads of one device's kernel, unless a job says otherwise.</param>
/// <param name="JobDeadline">Time after which an unfinished job fails.</param>
public sealed record RingActorsSettings(string ComputeDispatcher, int ComputeThreads, int MaxBlocksHeld, int ThreadsPerDevice, TimeSpan JobDeadline)
{
    public const string RootKey = "ring-actors";

    /// <summary>Quiet time after which the supervisor sends a device again what it has not acknowledged (see <see cref="RingWatchdog"/>).</summary>
    public TimeSpan ResendAfter { get; init; } = TimeSpan.FromSeconds(1);

    public const string DefaultComputeDispatcher = "ring-actors.compute-dispatcher";

    /// <summary>Reads <c>ring-actors</c> from <paramref name="config"/>, falling back to reference.conf for missing keys.</summary>
    public static RingActorsSettings Create(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var reference = RingActorsConfig.Reference;
        var section = (ReferenceEquals(config, reference) ? config : config.WithFallback(reference)).GetConfig(RootKey);
        var settings = new RingActorsSettings(
            DefaultComputeDispatcher,
            section.GetInt("compute-dispatcher.dedicated-thread-pool.thread-count"),
            section.GetInt("max-blocks-held"),
            section.GetInt("threads-per-device"),
            section.GetTimeSpan("job-deadline"))
        {
            ResendAfter = section.GetTimeSpan("resend-after"),
        };
        Require(settings.ComputeThreads >= 1, "compute-dispatcher.dedicated-thread-pool.thread-count", settings.ComputeThreads);
        Require(settings.MaxBlocksHeld >= 2, "max-blocks-held", settings.MaxBlocksHeld);
        Require(settings.ThreadsPerDevice >= 1, "threads-per-device", settings.ThreadsPerDevice);
        Require(settings.JobDeadline > TimeSpan.Zero, "job-deadline", settings.JobDeadline);
        Require(settings.ResendAfter > TimeSpan.Zero, "resend-after", settings.ResendAfter);
        return settings;
    }

    /// <summary>The settings of a running system (its configuration is given reference.conf as a fallback if it lacks it).</summary>
    public static RingActorsSettings Create(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        RingActorsConfig.EnsureLoaded(system);
        return Create(system.Settings.Config);
    }

    private static void Require(bool condition, string key, object value)
    {
        if (!condition)
        {
            throw new ArgumentException($"{RootKey}.{key} has an illegal value: {value}", key);
        }
    }
}
