using System.ComponentModel;
using System.Globalization;
using System.Runtime.InteropServices;
using Akka.Actor;
using RingActors.Actors.Cluster;
using RingActors.Host.Cli;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RingActors.Host.Commands;

/// <summary>
/// <c>ringactors node</c>: starts a cluster node with a role, joins the seeds, prints one line with its address once
/// Up, and runs until Ctrl-C or SIGTERM, when it leaves the cluster gracefully (CoordinatedShutdown) and exits 0.
/// If no seed answers within --join-timeout it ends with one line and exit code 1.
/// </summary>
public sealed class NodeCommand(IAnsiConsole console) : AsyncCommand<NodeCommand.Settings>
{
    /// <summary>Exit code when the node was removed without being asked to leave (downed by the split-brain resolver).</summary>
    public const int DownedExitCode = 1;

    /// <summary>Exit code when no seed answered within --join-timeout.</summary>
    public const int NotJoinedExitCode = 1;

    public sealed class Settings : CommandSettings
    {
        [CommandOption("--role <ROLE>")]
        [Description("device (hosts device actors) or coordinator (places devices and runs jobs).")]
        public string? Role { get; init; }

        [CommandOption("--host <HOST>")]
        [Description("Interface to bind (default 127.0.0.1: reachable from this machine only).")]
        public string? Host { get; init; }

        [CommandOption("--public-host <HOST>")]
        [Description("Name or IP other nodes reach this one at, when it differs from --host (0.0.0.0 binds, NAT).")]
        public string? PublicHost { get; init; }

        [CommandOption("--port <PORT>")]
        [Description("Port to bind; 0 (default) takes a free one. A seed needs a fixed port.")]
        public string? Port { get; init; }

        [CommandOption("--seed <ADDRESS>")]
        [Description("Seed to join, repeatable: akka.tcp://ring@HOST:PORT (akka.ssl.tcp://… with TLS). A node whose own address is the first seed starts the cluster.")]
        public string[] Seeds { get; init; } = [];

        [CommandOption("--join-timeout <SECONDS>")]
        [Description("How long to try the seeds; then the node gives up with one line and exit code 1. Whole seconds in [1, 86400], default 30.")]
        public string? JoinTimeout { get; init; }

        [CommandOption("--log <FILE>")]
        [Description("Append every Akka log event in full (with stack traces) to FILE; the console gets one line per event either way.")]
        public string? LogFile { get; init; }

        [CommandOption("--config <FILE>")]
        [Description("HOCON file layered over the defaults, e.g. hocon/cluster.conf or hocon/tls.conf.")]
        public string? ConfigFile { get; init; }

        [CommandOption("--tls-cert <FILE>")]
        [Description("This node's PKCS#12 (.pfx) certificate with its key (each node may have its own): turns TLS on. Needs --tls-ca or --tls-trust (docs/security.md).")]
        public string? TlsCertificate { get; init; }

        [CommandOption("--tls-ca <FILE>")]
        [Description("The cluster's CA certificate (PEM or DER), repeatable: peers whose certificate it signed, and that have not expired, may connect.")]
        public string[] TlsAuthorities { get; init; } = [];

        [CommandOption("--tls-trust <THUMBPRINT>")]
        [Description("A peer certificate accepted as it is, by SHA-256 (or SHA-1) thumbprint in hex, repeatable.")]
        public string[] TlsPinned { get; init; } = [];

        [CommandOption("--tls-password-file <FILE>")]
        [Description("File whose first line is the --tls-cert password; without it the password is read from $" + TlsOptions.PasswordVariable + ".")]
        public string? TlsPasswordFile { get; init; }

        // Kept only to say why it is gone: a password on the command line is visible to every user in ps and /proc.
        [CommandOption("--tls-password <PASSWORD>", IsHidden = true)]
        public string? TlsPassword { get; init; }

        [CommandOption("--insecure")]
        [Description("Bind a --host other than loopback without TLS anyway: anyone who reaches the port can join and send orders. The node warns once.")]
        public bool Insecure { get; init; }

        public ClusterNodeOptions Options() => new()
        {
            Role = Role ?? string.Empty,
            Host = Host,
            PublicHost = PublicHost,
            Port = Port is null ? null : int.TryParse(Port, NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : -1,
            Seeds = Seeds,
            JoinTimeout = JoinTimeout is null ? null : TimeSpan.FromSeconds(ParseSeconds(JoinTimeout) ?? -1),
            LogFile = LogFile,
            ConfigFile = ConfigFile,
            Tls = TlsCertificate is null ? null : new TlsOptions(TlsCertificate, TlsOptions.ReadPasswordFile(TlsPasswordFile)) { Authorities = TlsAuthorities, Pinned = TlsPinned },
            AllowInsecure = Insecure,
        };

        public override ValidationResult Validate()
        {
            if (Role is null)
            {
                return ValidationResult.Error($"--role is required: {ClusterRoles.Device} or {ClusterRoles.Coordinator}");
            }

            if (Port is not null && !int.TryParse(Port, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                return ValidationResult.Error($"--port must be an integer in [0, 65535], got '{Port}'");
            }

            if (JoinTimeout is not null && ParseSeconds(JoinTimeout) is null)
            {
                return ValidationResult.Error($"--join-timeout must be a whole number of seconds in [1, 86400], got '{JoinTimeout}'");
            }

            if (TlsPassword is not null)
            {
                return ValidationResult.Error($"--tls-password is not accepted: the command line is visible to every user (ps); use --tls-password-file FILE or ${TlsOptions.PasswordVariable}");
            }

            if (TlsCertificate is null && (TlsPasswordFile is not null || TlsAuthorities.Length > 0 || TlsPinned.Length > 0))
            {
                return ValidationResult.Error("--tls-password-file, --tls-ca and --tls-trust need --tls-cert");
            }

            if (TlsCertificate is not null && Seeds.FirstOrDefault(seed => !seed.StartsWith(SeedAddress.TlsProtocol + "://", StringComparison.Ordinal)) is { } plain)
            {
                return ValidationResult.Error($"with --tls-cert every seed must be {SeedAddress.TlsProtocol}://…, got '{plain}'");
            }

            try
            {
                Options().Validate();
            }
            catch (ArgumentException error)
            {
                return ValidationResult.Error(Describe(error));
            }

            return base.Validate();
        }

        private static int? ParseSeconds(string text) =>
            int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? seconds : null;

        /// <summary>The option error phrased with the command-line names.</summary>
        private static string Describe(ArgumentException error)
        {
            var index = error.Message.LastIndexOf(" (Parameter '", StringComparison.Ordinal);
            var message = index > 0 ? error.Message[..index] : error.Message;
            return error.ParamName switch
            {
                nameof(ClusterNodeOptions.Role) => "--" + message,
                nameof(ClusterNodeOptions.Port) => "--" + message,
                nameof(ClusterNodeOptions.Host) => "--" + message,
                nameof(ClusterNodeOptions.Seeds) => "--" + message,
                nameof(ClusterNodeOptions.ConfigFile) => "--" + message,
                nameof(ClusterNodeOptions.JoinTimeout) => "--" + message,
                nameof(ClusterNodeOptions.LogFile) => "--" + message,
                nameof(ClusterNodeOptions.Tls) => "--tls-cert: " + message,
                "file" => "--tls-password-file: " + message,
                _ => message,
            };
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var options = settings.Options();
        ClusterNode node;
        try
        {
            node = ClusterNode.Start(options);
        }
        catch (Exception error) when (error is not ArgumentException)
        {
            // Binding a port in use, an unreadable certificate: the environment refused, not a bug; one line, exit 2.
            throw new UserInputException($"cannot start the node: {error.GetBaseException().Message}");
        }

        void Leave() => CoordinatedShutdown.Get(node.System).Run(CoordinatedShutdown.ClrExitReason.Instance);

        // Ctrl-C is SIGINT on every platform. Cancelling the default action keeps the process alive while the node
        // leaves; Akka's own ProcessExit hook (run-by-clr-shutdown-hook) still covers any other way out.
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, signal => { signal.Cancel = true; Leave(); });
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal => { signal.Cancel = true; Leave(); });
        using var cancelled = cancellationToken.Register(Leave);

        try
        {
            await node.WhenUp.ConfigureAwait(false);

            // The one ready line: scripts and the specs wait for it (scripts/local-cluster.sh, NodeProcess).
            console.WriteLine($"node {node.Address} is Up, role {node.Role}");
        }
        catch (TimeoutException notJoined)
        {
            await node.WhenTerminated.ConfigureAwait(false);
            throw new CommandFailedException(
                $"cannot join the cluster: {notJoined.Message}; start a seed node there first, or wait longer with --join-timeout", NotJoinedExitCode);
        }
        catch (InvalidOperationException)
        {
            // Terminated before it was Up for another reason (a signal while joining): the shutdown reason below decides.
        }

        await node.WhenTerminated.ConfigureAwait(false);
        var reason = CoordinatedShutdown.Get(node.System).ShutdownReason;
        if (reason is CoordinatedShutdown.ClrExitReason or CoordinatedShutdown.ClusterLeavingReason)
        {
            return 0;
        }

        console.WriteLine($"node {node.Address} was removed from the cluster ({reason?.ToString() ?? "actor system terminated"})");
        return DownedExitCode;
    }
}
