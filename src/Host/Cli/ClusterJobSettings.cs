using System.ComponentModel;
using Spectre.Console.Cli;

namespace RingActors.Host.Cli;

/// <summary>A ring job's options plus where it runs: in this process, or with <c>--cluster</c> on the device members of a cluster (<c>run</c> and <c>experiment</c>).</summary>
public class ClusterJobSettings : JobSettings
{
    [CommandOption("--cluster")]
    [Description("Run the devices on the device members of a cluster (see 'ringactors node'); this process joins it as the coordinator.")]
    public bool Cluster { get; init; }

    [CommandOption("--cluster-seed <ADDRESS>")]
    [Description("With --cluster: a seed node to join, repeatable (akka.tcp://ring@HOST:PORT); '--seed akka.tcp://…' means the same.")]
    public string[] ClusterSeeds { get; init; } = [];

    [CommandOption("--placement <PLACEMENT>")]
    [Description("With --cluster: round-robin (default), packed (consecutive devices on one node), or NODE,NODE,... one device member address (or HOST:PORT) per device.")]
    public string? Placement { get; init; }

    [CommandOption("--device-nodes <K>")]
    [Description("With --cluster: device members that must be Up before the job starts (default 1, or the nodes --placement names).")]
    public int? DeviceNodes { get; init; }

    [CommandOption("--up-timeout <SECONDS>")]
    [Description("With --cluster: how long to wait for the device members.")]
    [DefaultValue(60)]
    public int UpTimeout { get; init; } = 60;

    [CommandOption("--log <FILE>")]
    [Description("With --cluster: append every Akka log event of the coordinator in full (with stack traces) to FILE; the console gets one line per event either way.")]
    public string? LogFile { get; init; }

    [CommandOption("--host <HOST>")]
    [Description("With --cluster: interface the coordinator binds (default 127.0.0.1).")]
    public string? Host { get; init; }

    [CommandOption("--tls-cert <FILE>")]
    [Description("With --cluster: the coordinator's PKCS#12 (.pfx) certificate with its key (TLS between nodes); needs --tls-ca or --tls-trust.")]
    public string? TlsCertificate { get; init; }

    [CommandOption("--tls-ca <FILE>")]
    [Description("With --tls-cert: the cluster's CA certificate (PEM or DER), repeatable: nodes whose certificate it signed may connect.")]
    public string[] TlsAuthorities { get; init; } = [];

    [CommandOption("--tls-trust <THUMBPRINT>")]
    [Description("With --tls-cert: a node certificate accepted as it is, by SHA-256 (or SHA-1) thumbprint in hex, repeatable.")]
    public string[] TlsPinned { get; init; } = [];

    [CommandOption("--tls-password-file <FILE>")]
    [Description("With --tls-cert: file whose first line is its password; without it the password is read from $RINGACTORS_TLS_PASSWORD.")]
    public string? TlsPasswordFile { get; init; }

    // Kept only to say why it is gone: a password on the command line is visible to every user in ps and /proc.
    [CommandOption("--tls-password <PASSWORD>", IsHidden = true)]
    public string? TlsPassword { get; init; }

    [CommandOption("--insecure")]
    [Description("With --cluster: let the coordinator bind a --host other than loopback without TLS (anyone who reaches it can join); it warns once.")]
    public bool Insecure { get; init; }

    public override Spectre.Console.ValidationResult Validate()
    {
        if (TlsPassword is not null)
        {
            return Spectre.Console.ValidationResult.Error("--tls-password is not accepted: the command line is visible to every user (ps); use --tls-password-file FILE or $RINGACTORS_TLS_PASSWORD");
        }

        if (TlsCertificate is null && (TlsPasswordFile is not null || TlsAuthorities.Length > 0 || TlsPinned.Length > 0))
        {
            return Spectre.Console.ValidationResult.Error("--tls-password-file, --tls-ca and --tls-trust need --tls-cert");
        }

        if (Cluster && ClusterSeeds.Length == 0)
        {
            return Spectre.Console.ValidationResult.Error("--cluster needs the address of a seed node: --seed akka.tcp://ring@HOST:PORT");
        }

        if (!Cluster && (ClusterSeeds.Length > 0 || Placement is not null || DeviceNodes is not null || LogFile is not null))
        {
            return Spectre.Console.ValidationResult.Error("--cluster-seed, --placement, --device-nodes and --log need --cluster");
        }

        if (DeviceNodes is <= 0 || UpTimeout <= 0)
        {
            return Spectre.Console.ValidationResult.Error("--device-nodes and --up-timeout must be ≥ 1");
        }

        if (OptionLimits.Whole("--device-nodes", DeviceNodes, 1, OptionLimits.MaxDevices) is { } nodes)
        {
            return Spectre.Console.ValidationResult.Error(nodes);
        }

        if (UpTimeout > OptionLimits.MaxSeconds)
        {
            // It is also the coordinator's join timeout, which a day bounds (ClusterNodeOptions.MaxJoinTimeout).
            return Spectre.Console.ValidationResult.Error($"--up-timeout must be ≤ 86400 seconds (a day), got {UpTimeout}");
        }

        return base.Validate();
    }
}
