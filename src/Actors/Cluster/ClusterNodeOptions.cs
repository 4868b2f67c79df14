using Akka.Configuration;

namespace RingActors.Actors.Cluster;

/// <summary>
/// What a node is: its role, where it listens, whom it joins. Unset host and port come from the configuration
/// (127.0.0.1 and a free port by default); no seeds and none in the configuration means the node starts a new
/// cluster by joining itself.
/// </summary>
public sealed record ClusterNodeOptions
{
    /// <summary>Shortest <see cref="JoinTimeout"/>: a whole second, time for a seed on loopback or a LAN to answer the first try.</summary>
    public static readonly TimeSpan MinJoinTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Longest <see cref="JoinTimeout"/>, a day: beyond that a typo is likelier than intent.</summary>
    public static readonly TimeSpan MaxJoinTimeout = TimeSpan.FromDays(1);

    public required string Role { get; init; }

    /// <summary>Host or IP to bind; the configuration's (127.0.0.1) when null.</summary>
    public string? Host { get; init; }

    /// <summary>Port to bind, 0 for any free one; the configuration's (0) when null.</summary>
    public int? Port { get; init; }

    /// <summary>Address other nodes reach this one at when it differs from <see cref="Host"/> (NAT, containers).</summary>
    public string? PublicHost { get; init; }

    /// <summary>Seed node addresses to join, e.g. akka.tcp://ring@127.0.0.1:4053.</summary>
    public IReadOnlyList<string> Seeds { get; init; } = [];

    /// <summary>A HOCON file layered over the defaults (e.g. hocon/cluster.conf, hocon/tls.conf).</summary>
    public string? ConfigFile { get; init; }

    /// <summary>TLS certificate and trust; overrides those of the configuration and turns TLS on.</summary>
    public TlsOptions? Tls { get; init; }

    /// <summary>
    /// Bind a non-loopback address without TLS anyway (the node warns once); without it such a node refuses to start
    /// (<see cref="BindExposure"/>).
    /// </summary>
    public bool AllowInsecure { get; init; }

    /// <summary>
    /// How long to try the seeds before giving up: the node then shuts down and <see cref="ClusterNode.WhenUp"/> faults
    /// with a <see cref="TimeoutException"/>. The configuration's (30 s, cluster-reference.conf) when null.
    /// </summary>
    public TimeSpan? JoinTimeout { get; init; }

    /// <summary>File that gets every Akka log event in full, with its stack trace; the console gets one line per event either way.</summary>
    public string? LogFile { get; init; }

    /// <summary>Further configuration above the file (tests, embedding programs); the options above still win.</summary>
    public Config? Config { get; init; }

    /// <summary>What this node's <see cref="NodeAgent"/> does on a crash-node fault: kill the process unless told otherwise (tests abort one actor system).</summary>
    public Action<Akka.Actor.ActorSystem> Crash { get; init; } = NodeAgent.KillProcess;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first option that is wrong.</summary>
    public ClusterNodeOptions Validate()
    {
        ClusterRoles.Validate(Role, nameof(Role));
        if (Host is not null && string.IsNullOrWhiteSpace(Host))
        {
            throw new ArgumentException("host must not be empty", nameof(Host));
        }

        if (Port is < 0 or > 65535)
        {
            throw new ArgumentException($"port must be in [0, 65535], got {Port}", nameof(Port));
        }

        foreach (var seed in Seeds)
        {
            SeedAddress.Parse(seed, nameof(Seeds));
        }

        if (JoinTimeout is { } join && (join < MinJoinTimeout || join > MaxJoinTimeout))
        {
            throw new ArgumentException($"join-timeout must be in [{MinJoinTimeout.TotalSeconds}, {MaxJoinTimeout.TotalSeconds}] seconds, got {join.TotalSeconds}", nameof(JoinTimeout));
        }

        if (LogFile is not null && (string.IsNullOrWhiteSpace(LogFile) || !Directory.Exists(Path.GetDirectoryName(Path.GetFullPath(LogFile)))))
        {
            throw new ArgumentException($"log file '{LogFile}' is in a directory that does not exist", nameof(LogFile));
        }

        if (ConfigFile is not null && !File.Exists(ConfigFile))
        {
            throw new ArgumentException($"config file '{ConfigFile}' does not exist", nameof(ConfigFile));
        }

        if (Tls is not null && !File.Exists(Tls.CertificatePath))
        {
            throw new ArgumentException($"TLS certificate '{Tls.CertificatePath}' does not exist", nameof(Tls));
        }

        if (Tls?.Authorities.FirstOrDefault(ca => !File.Exists(ca)) is { } missing)
        {
            throw new ArgumentException($"TLS CA certificate '{missing}' does not exist", nameof(Tls));
        }

        return this;
    }
}
