using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using RingActors.Actors.Configuration;
using RingActors.Actors.Protocol;
using RingActors.Actors.Serialization;
using AkkaCluster = Akka.Cluster.Cluster;

namespace RingActors.Actors.Cluster;

/// <summary>
/// One member of a ring cluster: an <see cref="ActorSystem"/> named <see cref="SystemName"/> with the cluster provider,
/// joined to its seeds. <see cref="WhenUp"/> completes when the member is Up; <see cref="LeaveAsync"/> leaves
/// gracefully through CoordinatedShutdown (leave, exit, remove, terminate).
/// </summary>
public sealed class ClusterNode : IAsyncDisposable
{
    /// <summary>Every node of a ring cluster has this actor system name; addresses are akka.tcp://ring@host:port.</summary>
    public const string SystemName = "ring";

    /// <summary>Least room above max-message-bytes that maximum-frame-size must leave for Akka's envelope.</summary>
    public const int MinFrameHeadroom = 16 * 1024;

    private const string TcpPath = "akka.remote.dot-netty.tcp";

    private const string JoinTimeoutPath = "akka.cluster.shutdown-after-unsuccessful-join-seed-nodes";

    private const string CaCertificatesPath = "ring-actors.tls.ca-certificates";

    private const string PinnedPath = "ring-actors.tls.trusted-thumbprints";

    private ClusterNode(ActorSystem system, string role, Task whenUp, PeerTrust? trust)
    {
        System = system;
        Role = role;
        Cluster = AkkaCluster.Get(system);
        WhenUp = whenUp;
        Admission = new MemberAdmission(system, trust);
    }

    public ActorSystem System { get; }

    public AkkaCluster Cluster { get; }

    public string Role { get; }

    /// <summary>Which members this node (as a coordinator) gives work to: with TLS, those that proved their role (<see cref="MemberAdmission"/>).</summary>
    public MemberAdmission Admission { get; }

    /// <summary>This node's address, e.g. akka.tcp://ring@127.0.0.1:40213 (the bound port when started with port 0).</summary>
    public Address Address => Cluster.SelfAddress;

    /// <summary>
    /// Completes when this member is Up; faults with a <see cref="TimeoutException"/> when no seed answered within
    /// <see cref="JoinTimeout"/>, with an <see cref="InvalidOperationException"/> if the actor system terminates first for another reason.
    /// </summary>
    public Task WhenUp { get; }

    /// <summary>How long the node tries its seeds before it shuts down (akka.cluster.shutdown-after-unsuccessful-join-seed-nodes); null: for ever.</summary>
    public TimeSpan? JoinTimeout => Cluster.Settings.ShutdownAfterUnsuccessfulJoinSeedNodes;

    /// <summary>Completes when the actor system has terminated (after leaving, or after being downed).</summary>
    public Task WhenTerminated => System.WhenTerminated;

    /// <summary>
    /// The node's configuration, highest precedence first: the options (role, host, port, TLS certificate),
    /// <see cref="ClusterNodeOptions.Config"/>, the config file, cluster-reference.conf, the ring's reference.conf.
    /// Checks that maximum-frame-size leaves <see cref="MinFrameHeadroom"/> above max-message-bytes.
    /// </summary>
    public static Config BuildConfig(ClusterNodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var lines = new List<string>
        {
            "akka.actor.provider = cluster",
            $"akka.cluster.roles = [{Quote(options.Role)}]",
        };
        if (options.Host is not null)
        {
            lines.Add($"{TcpPath}.hostname = {Quote(options.Host)}");
        }

        if (options.PublicHost is not null)
        {
            lines.Add($"{TcpPath}.public-hostname = {Quote(options.PublicHost)}");
        }

        if (options.Port is { } port)
        {
            lines.Add($"{TcpPath}.port = {port.ToString(CultureInfo.InvariantCulture)}");
        }

        if (options.Seeds.Count > 0)
        {
            // Seeds given explicitly replace the configured ones; Akka would otherwise join those by itself too.
            lines.Add("akka.cluster.seed-nodes = []");
        }

        if (options.JoinTimeout is { } join)
        {
            lines.Add($"{JoinTimeoutPath} = {join.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms");
        }

        if (options.LogFile is { } log)
        {
            lines.Add($"{NodeLogger.FileKey} = {Quote(Path.GetFullPath(log))}");
        }

        if (options.Tls is { } tls)
        {
            lines.Add($"{TcpPath}.enable-ssl = on");
            lines.Add($"{TcpPath}.ssl.certificate.path = {Quote(Path.GetFullPath(tls.CertificatePath))}");
            if (tls.Password is not null)
            {
                lines.Add($"{TcpPath}.ssl.certificate.password = {Quote(tls.Password)}");
            }

            if (tls.Authorities.Count > 0)
            {
                lines.Add($"{CaCertificatesPath} = [{string.Join(", ", tls.Authorities.Select(ca => Quote(Path.GetFullPath(ca))))}]");
            }

            if (tls.Pinned.Count > 0)
            {
                lines.Add($"{PinnedPath} = [{string.Join(", ", tls.Pinned.Select(Quote))}]");
            }
        }

        var config = ConfigurationFactory.ParseString(string.Join('\n', lines));
        if (options.Config is { } extra)
        {
            config = config.WithFallback(extra);
        }

        if (options.ConfigFile is { } file)
        {
            config = config.WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(file)));
        }

        // The node's logger sits under the file (a deployment may choose another) but not in cluster-reference.conf,
        // which test kits also fall back on and whose own logger must stay theirs.
        config = config.WithFallback(NodeLogger.Config).WithFallback(ClusterDefaults.NodeDefaults);
        CheckFrameSize(config);
        return config;
    }

    /// <summary>
    /// Creates the actor system, registers for Up and joins the seeds (or itself when there are none).
    /// Throws an <see cref="ArgumentException"/> when the options are wrong, the fixed port is already in use, or the node
    /// would bind a non-loopback address without TLS and without <see cref="ClusterNodeOptions.AllowInsecure"/>.
    /// </summary>
    public static ClusterNode Start(ClusterNodeOptions options)
    {
        var config = BuildConfig(options);
        var host = config.GetString($"{TcpPath}.hostname", "0.0.0.0");
        var port = config.GetInt($"{TcpPath}.port");
        var exposure = BindExposure.Check(host, config.GetBoolean($"{TcpPath}.enable-ssl"), options.AllowInsecure, out var refused);
        if (refused)
        {
            throw new ArgumentException(exposure, nameof(ClusterNodeOptions.AllowInsecure));
        }

        if (PortProbe.IsListening(string.IsNullOrWhiteSpace(host) ? "0.0.0.0" : host, port))
        {
            throw new ArgumentException($"port {port} on {host} is already in use", nameof(options));
        }

        var (finalConfig, ssl, certificate, trust) = TlsSetup(config);
        var bootstrap = BootstrapSetup.Create().WithConfig(finalConfig);
        var setup = ssl is null ? ActorSystemSetup.Create(bootstrap) : bootstrap.And(ssl);

        var system = ActorSystem.Create(SystemName, setup);
        if (exposure is not null)
        {
            // The one warning an --insecure node gives: it is exposed, and the operator said so.
            system.Log.Warning("{0}", exposure);
        }

        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var seeds = options.Seeds.Select(seed => SeedAddress.Parse(seed)).ToList();
        var node = new ClusterNode(system, options.Role, up.Task, trust);
        if (certificate is not null && !CertificateRoles.Of(certificate).Contains(options.Role))
        {
            // Not refused here: the coordinator is the one that must not trust it, and tells its own operator so.
            system.Log.Warning("{0}", $"this node's certificate '{certificate.Subject}' does not name its role ({CertificateRoles.Uri(options.Role)}): coordinators will not give it work as a {options.Role}");
        }

        system.ActorOf(NodeAgent.Props(options.Crash, certificate, trust), NodeAgent.Name);

        // Registered before joining, so Up can never be missed.
        node.Cluster.RegisterOnMemberUp(() => up.TrySetResult());
        system.WhenTerminated.ContinueWith(
            _ => up.TrySetException(NotUp(node, seeds)),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

        if (seeds.Count > 0)
        {
            node.Cluster.JoinSeedNodes(seeds);
        }
        else if (finalConfig.GetStringList("akka.cluster.seed-nodes", []).Count == 0)
        {
            node.Cluster.Join(node.Cluster.SelfAddress);
        }

        return node;
    }

    /// <summary>Leaves the cluster through CoordinatedShutdown and waits until the actor system has terminated.</summary>
    public async Task LeaveAsync()
    {
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance).ConfigureAwait(false);
        await System.WhenTerminated.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await LeaveAsync().ConfigureAwait(false);

    /// <summary>Why the node terminated before it was Up: no seed answered in time (Akka gave up joining), or something else.</summary>
    private static Exception NotUp(ClusterNode node, IReadOnlyList<Address> seeds)
    {
        var reason = CoordinatedShutdown.Get(node.System).ShutdownReason;
        if (reason is CoordinatedShutdown.ClusterJoinUnsuccessfulReason)
        {
            var configured = seeds.Count > 0 ? seeds.Select(seed => seed.ToString()) : node.Cluster.Settings.SeedNodes.Select(seed => seed.ToString());
            var seconds = node.JoinTimeout?.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) ?? "?";
            return new TimeoutException($"no seed answered within {seconds} s ({string.Join(", ", configured)})");
        }

        return new InvalidOperationException($"node {node.Address} terminated before it was Up ({reason?.ToString() ?? "no shutdown reason"})");
    }

    private static void CheckFrameSize(Config config)
    {
        var transport = TransportSettings.Create(config);
        var frame = config.GetByteSize($"{TcpPath}.maximum-frame-size") ?? 0;
        if (frame < (long)transport.MaxMessageBytes + MinFrameHeadroom)
        {
            throw new ArgumentException(
                $"{TcpPath}.maximum-frame-size ({frame} bytes) must be ≥ ring-actors.transport.max-message-bytes ({transport.MaxMessageBytes}) + {MinFrameHeadroom}; set them together",
                nameof(config));
        }
    }

    /// <summary>
    /// With enable-ssl on, loads this node's certificate and accepts only peers that <see cref="PeerTrust"/> accepts: a valid
    /// certificate from the cluster's own CA (ring-actors.tls.ca-certificates) or a pinned one (trusted-thumbprints). The
    /// HOCON-only path would demand a chain to the machine's store, where any public CA's customer would pass. Refuses
    /// suppress-validation (it would accept anyone), a node certificate without its key or outside its validity period, and
    /// TLS with nobody to trust. The password comes from the configuration, else from <see cref="TlsOptions.PasswordVariable"/>.
    /// </summary>
    private static (Config Config, DotNettySslSetup? Ssl, X509Certificate2? Certificate, PeerTrust? Trust) TlsSetup(Config config)
    {
        if (!config.GetBoolean($"{TcpPath}.enable-ssl"))
        {
            return (config, null, null, null);
        }

        if (config.GetBoolean($"{TcpPath}.ssl.suppress-validation"))
        {
            throw new ArgumentException($"{TcpPath}.ssl.suppress-validation = on is not honoured: it accepts any certificate, so anyone could join; remove it", nameof(config));
        }

        if (config.GetBoolean("ring-actors.tls.accept-ca-signed"))
        {
            throw new ArgumentException($"ring-actors.tls.accept-ca-signed is gone: it trusted every CA of the machine's store; name the cluster's CA in {CaCertificatesPath}", nameof(config));
        }

        var path = config.GetString($"{TcpPath}.ssl.certificate.path", string.Empty);
        var password = config.GetString($"{TcpPath}.ssl.certificate.password", string.Empty);
        if (string.IsNullOrEmpty(password))
        {
            password = Environment.GetEnvironmentVariable(TlsOptions.PasswordVariable) ?? string.Empty;
        }

        if (string.IsNullOrWhiteSpace(path))
        {
            throw new ArgumentException($"{TcpPath}.enable-ssl is on but {TcpPath}.ssl.certificate.path is empty", nameof(config));
        }

        if (!File.Exists(path))
        {
            throw new ArgumentException($"TLS certificate '{Path.GetFullPath(path)}' ({TcpPath}.ssl.certificate.path) does not exist", nameof(config));
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password);
        }
        catch (CryptographicException error)
        {
            throw new ArgumentException($"cannot load TLS certificate '{path}' (a .pfx with its key; wrong password?): {error.Message}", nameof(config), error);
        }

        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException($"TLS certificate '{path}' has no private key; export it as .pfx with its key", nameof(config));
        }

        // Peers would refuse it anyway, one handshake at a time; better one line now.
        var now = DateTime.UtcNow;
        if (now < certificate.NotBefore.ToUniversalTime() || now > certificate.NotAfter.ToUniversalTime())
        {
            throw new ArgumentException(
                $"TLS certificate '{path}' is valid from {certificate.NotBefore.ToUniversalTime():u} to {certificate.NotAfter.ToUniversalTime():u}, not now", nameof(config));
        }

        var authorities = config.GetStringList(CaCertificatesPath, []).SelectMany(file => PeerTrust.LoadAuthorities(file).Cast<X509Certificate2>()).ToList();
        var trust = new PeerTrust(authorities, config.GetStringList(PinnedPath, []));
        var refusals = new LogOnce();

        // The platform's verdict (the SslPolicyErrors, discarded) judges by the machine's store; PeerTrust by the cluster's.
        CertificateValidationCallback validate = (peer, chain, remote, _, log) =>
        {
            if (trust.Refusal(peer, chain, DateTimeOffset.UtcNow) is not { } refusal)
            {
                return true;
            }

            // Once per refusal (i.e. per certificate), not per connection: a peer retrying must not fill the log.
            if (refusals.Line(refusal, $"TLS peer {remote} refused: {refusal}") is { } line)
            {
                log.Warning("{0}", line);
            }

            return false;
        };

        var ssl = new DotNettySslSetup(certificate, suppressValidation: false, requireMutualAuthentication: true, validateCertificateHostname: false, validate);

        // The setup carries the certificate; a path left in HOCON as well makes Akka warn that it is ignored.
        var cleared = ConfigurationFactory.ParseString($"{TcpPath}.ssl.certificate.path = \"\"\n{TcpPath}.ssl.certificate.password = \"\"");
        return (cleared.WithFallback(config), ssl, certificate, trust);
    }

    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
