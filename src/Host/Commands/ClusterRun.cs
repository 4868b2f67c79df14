using Akka.Actor;
using Akka.Cluster;
using RingActors.Actors;
using RingActors.Actors.Cluster;
using RingActors.Actors.Faults;
using RingActors.Host.Cli;
using RingActors.Host.Reporting;
using RingActors.Math;
using Spectre.Console;

namespace RingActors.Host.Commands;

/// <summary>
/// <c>run --cluster</c>: this process joins the cluster as the coordinator, waits for device members, places the P devices on
/// them (deployed remotely, children of this process's supervisor), runs the ring, prints the usual report plus where each
/// device ran and the bytes that crossed the network, and leaves the cluster.
/// </summary>
internal static class ClusterRun
{
    public delegate Task<RunOutcome> Runner(ActorSystem system, AttentionInput input, RingJobSettings job, ReportOptions baselines, RunCommand.Settings settings, CancellationToken cancellationToken);

    /// <summary>Starts this process's coordinator node from the cluster options; the caller leaves the cluster with it.</summary>
    public static ClusterNode StartCoordinator(ClusterJobSettings settings, Akka.Configuration.Config? config = null)
    {
        var options = new ClusterNodeOptions
        {
            Role = ClusterRoles.Coordinator,
            Host = settings.Host,
            Port = 0,
            Seeds = settings.ClusterSeeds,

            // One stated wait: a coordinator whose seeds never answer gives up when it would have stopped waiting for devices.
            JoinTimeout = TimeSpan.FromSeconds(settings.UpTimeout),
            LogFile = settings.LogFile,
            Tls = settings.TlsCertificate is null
                ? null
                : new TlsOptions(settings.TlsCertificate, TlsOptions.ReadPasswordFile(settings.TlsPasswordFile)) { Authorities = settings.TlsAuthorities, Pinned = settings.TlsPinned },
            AllowInsecure = settings.Insecure,
            Config = config,
        };
        ClusterNode node;
        try
        {
            node = ClusterNode.Start(options);
        }
        catch (ArgumentException error) when (error.ParamName == nameof(ClusterNodeOptions.LogFile))
        {
            throw new UserInputException("--" + error.Message);
        }
        catch (Exception error) when (error is not ArgumentException)
        {
            throw new UserInputException($"cannot start the coordinator node: {error.GetBaseException().Message}");
        }

        return node;
    }

    /// <summary>How long a device member has to answer the proof of its role (TLS only).</summary>
    private static readonly TimeSpan ProofTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Waits until the device members the options ask for are Up (--device-nodes, or the nodes --placement names) and places
    /// the job's devices on the members Up now; called before each job, so a trial after a node crash uses the nodes left.
    /// </summary>
    public static async Task<RingJobSettings> PlaceAsync(IAnsiConsole console, ClusterNode node, ClusterJobSettings settings, RingJobSettings job, CancellationToken cancellationToken)
    {
        var timeout = TimeSpan.FromSeconds(settings.UpTimeout);
        var named = DevicePlacement.NamedNodes(settings.Placement);
        var wanted = settings.DeviceNodes ?? System.Math.Max(1, named?.Distinct().Count() ?? 1);
        IReadOnlyList<Member> members;
        try
        {
            // The node gives up joining after the same timeout (its join timeout), with the better message; the grace
            // lets that one win. Past it, the seed answered but this node never became Up.
            await node.WhenUp.WaitAsync(timeout + TimeSpan.FromSeconds(10), cancellationToken);
        }
        catch (TimeoutException error)
        {
            var why = node.WhenUp.IsFaulted ? error.Message : $"not Up {timeout.TotalSeconds + 10} s after joining";
            throw new UserInputException($"cannot join the cluster: {why}; start the seed node first, or wait longer with --up-timeout");
        }

        try
        {
            members = await ClusterMembership.WaitForUpAsync(node.System, ClusterRoles.Device, wanted, timeout, cancellationToken);
        }
        catch (TimeoutException error)
        {
            throw new UserInputException($"cluster at {string.Join(", ", settings.ClusterSeeds)}: {error.Message} (start device nodes with 'ringactors node --role device --seed …')");
        }

        // A member still Up but unreachable (a node that crashed in the previous trial, not downed yet) gets no device; with
        // TLS, neither does one that has not proved that its certificate names the device role (MemberAdmission).
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var state = node.Cluster.State;
            members = ClusterMembership.UpWithRole(state.Members, ClusterRoles.Device).Where(m => !state.Unreachable.Contains(m)).ToList();
            members = await node.Admission.AdmitAsync(members, ClusterRoles.Device, ProofTimeout, line => console.MarkupLine($"coordinator: {Markup.Escape(line)}"), cancellationToken);
            if (members.Count >= wanted || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }

        DevicePlacement placement;
        try
        {
            placement = DevicePlacement.Place(settings.Placement, job.Devices, members.Select(m => m.Address).ToList());
        }
        catch (ArgumentException error)
        {
            throw new UserInputException(error.Message);
        }

        console.MarkupLine($"coordinator {Markup.Escape(node.Address.ToString())}: {members.Count} device node(s) Up, {job.Devices} devices placed {Markup.Escape(settings.Placement ?? "round-robin")}");
        return OnCluster(job, placement);
    }

    /// <summary>
    /// The job as every cluster run sends it (run, experiment and bench cluster alike): placed, and with a fault plan, because
    /// remoting may drop messages (an association gated for a few seconds after a failed connect loses what is sent to it), so
    /// across nodes the devices' links always acknowledge and retransmit, with or without injected faults.
    /// </summary>
    public static RingJobSettings OnCluster(RingJobSettings job, DevicePlacement placement) =>
        job with { Placement = placement, Faults = job.Faults ?? FaultPlan.None };

    public static async Task<int> ExecuteAsync(
        IAnsiConsole console, RunCommand.Settings settings, AttentionInput input, FileLayout? files, RingJobSettings job, ReportOptions baselines, Runner run, CancellationToken cancellationToken)
    {
        var node = StartCoordinator(settings);
        try
        {
            job = await PlaceAsync(console, node, settings, job, cancellationToken);

            var outcome = await run(node.System, input, job.Validate(input.Shape), baselines, settings, cancellationToken);
            console.Write(RunReportView.Render(outcome));

            // The devices' timelines came back with their results, on the coordinator's clock (RingResult.ClockAlignments).
            outcome = await RunTimelineView.WriteAsync(console, node.System, input, outcome, settings.Timeline, calibrate: false, cancellationToken, settings.Trace);
            var ring = outcome.Ring!;
            console.Write(NetworkTable(ring));
            var seconds = ring.RingTime.TotalSeconds;
            console.MarkupLine($"bytes that crossed the network: {ring.NetworkBytes:N0} ({ring.NetworkBytes / 1048576.0 / System.Math.Max(seconds, 1e-9):F1} MiB/s over the ring's {seconds:F3} s); "
                + $"coordinator → devices {ring.SupervisorNetworkBytes:N0} (chunks and orders), devices → coordinator {ring.Devices.Sum(d => d.NetworkBytesToSupervisor):N0} (results and events)");
            return RunCommand.WriteOutputs(console, settings, outcome, input, files);
        }
        finally
        {
            await node.LeaveAsync();
        }
    }

    /// <summary>Where each device's bytes went: to its successor (hand-offs), its predecessor (acknowledgements, credits), the coordinator.</summary>
    internal static Table NetworkTable(RingResult ring)
    {
        var table = new Table().AddColumn("device").AddColumn("node")
            .AddColumn(new TableColumn("→ successor").RightAligned()).AddColumn(new TableColumn("→ predecessor").RightAligned())
            .AddColumn(new TableColumn("→ coordinator").RightAligned()).AddColumn(new TableColumn("retransmitted").RightAligned());
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        for (var r = 0; r < ring.Devices.Count; r++)
        {
            var d = ring.Devices[r];
            table.AddRow(
                r.ToString(culture), Markup.Escape(ring.Placement?[r] ?? "local"), d.NetworkBytesToSuccessor.ToString("N0", culture),
                d.NetworkBytesToPredecessor.ToString("N0", culture), d.NetworkBytesToSupervisor.ToString("N0", culture), d.Retransmissions.ToString(culture));
        }

        return table;
    }
}
