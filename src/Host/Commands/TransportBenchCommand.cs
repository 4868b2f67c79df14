using System.ComponentModel;
using System.Globalization;
using Akka.Actor;
using Akka.Delivery;
using Akka.Util;
using RingActors.Actors.Cluster;
using RingActors.Actors.Serialization;
using RingActors.Host.Benchmarks;
using RingActors.Host.Reporting;
using Spectre.Console;
using Spectre.Console.Cli;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Host.Commands;

/// <summary>
/// <c>ringactors bench transport</c>: hand-offs of K+V blocks between this process and one <c>ringactors node --role device</c>
/// child on loopback, one-way with acknowledgements and at most <c>--window</c> blocks unacknowledged, through (a) the
/// ring's own wire (RingWire chunks of LinkFrame(AcceptBlock), WireInbox, LinkAck) and (b) Akka.Delivery
/// (ProducerController/ConsumerController with chunk-large-messages); MiB/s per size next to the bytes the kernel counted
/// on the connections (ss -tin) and the child's read/write counters (/proc/PID/io), so the figures are checked from outside.
/// </summary>
public sealed class TransportBenchCommand(IAnsiConsole console) : AsyncCommand<TransportBenchCommand.Settings>
{
    private const string WirePath = "wire";
    private const string DeliveryPath = "delivery";

    /// <summary>The largest Akka.Delivery chunk: a whole 256 MiB hand-off, the largest --sizes allows.</summary>
    private const int MaxDeliveryChunk = 256 << 20;

    public sealed class Settings : CommandSettings
    {
        [CommandOption("--sizes <MIB>")]
        [Description("Hand-off sizes (K+V float32, MiB), comma-separated.")]
        [DefaultValue("1,2,4,8,16")]
        public string Sizes { get; init; } = "1,2,4,8,16";

        [CommandOption("--budget <MIB>")]
        [Description("MiB to move per size and path: ⌈budget/size⌉ hand-offs, at least 4, at most 4096.")]
        [DefaultValue(128.0)]
        public double Budget { get; init; } = 128;

        [CommandOption("--window <BLOCKS>")]
        [Description("Most hand-offs unacknowledged at once (the ring's credit limit is 2).")]
        [DefaultValue(2)]
        public int Window { get; init; } = 2;

        [CommandOption("--path <PATH>")]
        [Description("wire (the ring's RingWire link), delivery (Akka.Delivery) or both.")]
        [DefaultValue("both")]
        public string Path { get; init; } = "both";

        [CommandOption("--delivery-chunk <BYTES>")]
        [Description("akka.reliable-delivery.producer-controller.chunk-large-messages; default: the ring's chunk payload (max-message-bytes minus the chunk header).")]
        public int? DeliveryChunk { get; init; }

        [CommandOption("--repeats <R>")]
        [Description("Runs of every size and path, interleaved; the table gives the best and the median (the machine is shared).")]
        [DefaultValue(3)]
        public int Repeats { get; init; } = 3;

        [CommandOption("--config <FILE>")]
        [Description("HOCON layered over the defaults on both nodes (e.g. another max-message-bytes and maximum-frame-size).")]
        public string? ConfigFile { get; init; }

        [CommandOption("--up-timeout <SECONDS>")]
        [Description("How long to wait for the child node to be Up.")]
        [DefaultValue(60)]
        public int UpTimeout { get; init; } = 60;

        public IReadOnlyList<string> Paths => Path switch
        {
            "both" => [WirePath, DeliveryPath],
            WirePath or DeliveryPath => [Path],
            _ => [],
        };

        public override Spectre.Console.ValidationResult Validate()
        {
            try
            {
                TransportPlan.ParseSizes(Sizes, "--sizes");
            }
            catch (ArgumentException error)
            {
                return Spectre.Console.ValidationResult.Error(Cli.UserError.WithoutParameter(error));
            }

            return !(Budget > 0 && Budget <= 4096) ? Spectre.Console.ValidationResult.Error($"--budget must be in (0, 4096] MiB, got {Budget.ToString(CultureInfo.InvariantCulture)}")
                : Repeats is < 1 or > 20 ? Spectre.Console.ValidationResult.Error($"--repeats must be in [1, 20], got {Repeats}")
                : Window is < 1 or > 64 ? Spectre.Console.ValidationResult.Error($"--window must be in [1, 64], got {Window}")
                : Paths.Count == 0 ? Spectre.Console.ValidationResult.Error($"--path must be wire, delivery or both, got '{Path}'")
                : DeliveryChunk is < 1024 ? Spectre.Console.ValidationResult.Error($"--delivery-chunk must be ≥ 1024 bytes, got {DeliveryChunk}")
                : Cli.OptionLimits.Whole("--delivery-chunk", DeliveryChunk, 1024, MaxDeliveryChunk) is { } chunk ? Spectre.Console.ValidationResult.Error(chunk)
                : ConfigFile is not null && !File.Exists(ConfigFile) ? Spectre.Console.ValidationResult.Error($"--config: file '{ConfigFile}' not found")
                : UpTimeout < 1 ? Spectre.Console.ValidationResult.Error($"--up-timeout must be ≥ 1 second, got {UpTimeout}")
                : Cli.OptionLimits.Whole("--up-timeout", UpTimeout, 1, Cli.OptionLimits.MaxSeconds) is { } wait ? Spectre.Console.ValidationResult.Error(wait)
                : base.Validate();
        }
    }

    /// <summary>One size over one path, with what the kernel and the child's counters saw meanwhile.</summary>
    private sealed record Row(string Path, double SizeMiB, TransferResult Result, TcpTraffic? Tcp, ProcessIo? ChildIo)
    {
        public double Rate => TransferRate.MiBPerSecond(Result.PayloadBytes, Result.Seconds);
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var plan = new TransportPlan(TransportPlan.ParseSizes(settings.Sizes, "--sizes"), settings.Budget);
        var transport = TransportSettings.Default;
        var configFile = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"ringactors-transport-{Environment.ProcessId}-{Guid.NewGuid():N}.conf");
        try
        {
            var userConfig = settings.ConfigFile is null ? string.Empty : await File.ReadAllTextAsync(settings.ConfigFile, cancellationToken);
            if (settings.ConfigFile is not null)
            {
                transport = TransportSettings.Create(Akka.Configuration.ConfigurationFactory.ParseString(userConfig));
            }

            var chunk = settings.DeliveryChunk ?? transport.ChunkPayloadBytes;
            await File.WriteAllTextAsync(configFile, BenchConfig(chunk) + "\n" + userConfig, cancellationToken);
            return await RunAsync(settings, plan, transport, chunk, configFile, cancellationToken);
        }
        finally
        {
            File.Delete(configFile);
        }
    }

    /// <summary>
    /// The bench's own keys, on both nodes: the binding of <see cref="PackedBlock"/> (Akka.Delivery serializes a whole block
    /// before chunking it) and Akka.Delivery's chunk size.
    /// </summary>
    private static string BenchConfig(int deliveryChunk) => $$"""
        akka.actor.serializers.packed-block = "{{typeof(PackedBlockSerializer).AssemblyQualifiedName!.Split(", Version", StringSplitOptions.None)[0]}}"
        akka.actor.serialization-bindings { "{{typeof(PackedBlock).FullName}}, {{typeof(PackedBlock).Assembly.GetName().Name}}" = packed-block }
        akka.reliable-delivery.producer-controller.chunk-large-messages = {{deliveryChunk.ToString(CultureInfo.InvariantCulture)}}b
        """;

    private async Task<int> RunAsync(Settings settings, TransportPlan plan, TransportSettings transport, int deliveryChunk, string configFile, CancellationToken cancellationToken)
    {
        var timeout = TimeSpan.FromSeconds(settings.UpTimeout);
        await using var coordinator = ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Coordinator, Port = 0, ConfigFile = configFile });
        await coordinator.WhenUp.WaitAsync(timeout, cancellationToken);
        await using var children = new ChildNodes();
        var child = children.StartDevice(coordinator.Address.ToString(), configFile);
        var members = await ClusterMembership.WaitForUpAsync(coordinator.System, ClusterRoles.Device, 1, timeout, cancellationToken);
        var childAddress = members[0].Address;
        console.MarkupLine(Markup.Escape(
            $"this node {coordinator.Address} → child node {childAddress} (pid {child.Id}) on loopback; max-message-bytes {transport.MaxMessageBytes}, " +
            $"Akka.Delivery chunk {deliveryChunk} bytes, window {settings.Window} blocks, GC LOH threshold {AppContext.GetData("System.GC.LOHThreshold") ?? "default"}"));

        var rows = new List<Row>();
        try
        {
            await MeasureAllAsync(settings, plan, deliveryChunk, coordinator, childAddress, child, rows, cancellationToken);
        }
        catch (InvalidOperationException error)
        {
            var state = child.HasExited ? $"exited with code {child.ExitCode}" : "is still running";
            throw new InvalidOperationException($"{error.Message}; the child node {state}, its last output:\n{children.OutputOf(child)}", error);
        }

        Report(settings, rows);

        // Ask the child to leave (its node process then exits 0) before this seed goes: killing it first would leave the
        // seed waiting for an unreachable member while it exits. ChildNodes kills it anyway if it is still there.
        coordinator.Cluster.Leave(childAddress);
        try
        {
            await child.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);
        }
        catch (TimeoutException)
        {
            // Disposing ChildNodes kills it.
        }

        return 0;
    }

    private async Task MeasureAllAsync(
        Settings settings, TransportPlan plan, int deliveryChunk, ClusterNode coordinator, Address childAddress, System.Diagnostics.Process child, List<Row> rows, CancellationToken cancellationToken)
    {
        var system = coordinator.System;
        var ownPort = childAddress.Port ?? 0;
        var peerPort = coordinator.Address.Port ?? 0;

        // JIT, first connections and the child's first large buffers on both paths, not timed.
        foreach (var path in settings.Paths)
        {
            await MeasureAsync(system, childAddress, path, System.Math.Min(1, plan.SizesMiB.Min()), TransportPlan.MinimumCount, settings.Window, deliveryChunk, cancellationToken);
        }

        for (var repeat = 0; repeat < settings.Repeats; repeat++)
        {
            foreach (var (size, path) in plan.SizesMiB.SelectMany(size => settings.Paths.Select(path => (size, path))))
            {
                var count = plan.CountFor(size);
                var socketsBefore = TcpSockets.Read();
                var ioBefore = ProcessIo.Read(child.Id);
                var result = await MeasureAsync(system, childAddress, path, size, count, settings.Window, deliveryChunk, cancellationToken);
                var socketsAfter = TcpSockets.Read();
                var ioAfter = ProcessIo.Read(child.Id);
                TcpTraffic? tcp = socketsBefore is null || socketsAfter is null
                    ? null
                    : TcpSockets.Between(TcpSockets.EndsOf(socketsBefore, ownPort, peerPort), TcpSockets.EndsOf(socketsAfter, ownPort, peerPort));
                var io = ioBefore is null || ioAfter is null ? null : ioAfter - ioBefore;
                var row = new Row(path, size, result, tcp, io);
                rows.Add(row);
                console.MarkupLine(Markup.Escape(Line(row)));
            }
        }
    }

    /// <summary>One line per measurement, stable enough for a test to read: path, size, count, rate, application and kernel bytes.</summary>
    private static string Line(Row row) =>
        string.Create(CultureInfo.InvariantCulture, $"{row.Path} {row.SizeMiB:0.####} MiB × {row.Result.Count}: {row.Rate:F1} MiB/s; payload {row.Result.PayloadBytes} bytes, application {row.Result.ApplicationBytes} bytes, ")
        + (row.Tcp is { } tcp ? string.Create(CultureInfo.InvariantCulture, $"child TCP received {tcp.BytesReceived} bytes, sent {tcp.BytesSent} bytes over {tcp.Connections} connection(s)") : "child TCP counters unavailable (ss)")
        + (row.ChildIo is { } io ? string.Create(CultureInfo.InvariantCulture, $", child rchar {io.ReadChars} wchar {io.WriteChars}") : string.Empty);

    private void Report(Settings settings, IReadOnlyList<Row> rows)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"hand-offs between two node processes on loopback, one-way, ≤ {settings.Window} unacknowledged, {settings.Repeats} run(s) each")
            .Caption("rate: K+V payload over first send → last ack; application: serialized bytes given to the transport; child TCP: kernel tcp_info of the child's " +
                     "connection ends (ss -tin); rchar/wchar: /proc/PID/io of the child (recv/send-family calls, which .NET sockets use, are not counted there); bytes summed over the runs");
        table.AddColumns("size", "path", "hand-offs", "best rate", "median rate", "application bytes", "child TCP received", "received / application", "child TCP sent", "child rchar", "child wchar");
        foreach (var group in rows.GroupBy(r => (r.SizeMiB, r.Path)))
        {
            var runs = group.ToList();
            var application = runs.Sum(r => r.Result.ApplicationBytes);
            var received = runs.All(r => r.Tcp is not null) ? runs.Sum(r => r.Tcp!.Value.BytesReceived) : (long?)null;
            var sent = runs.All(r => r.Tcp is not null) ? runs.Sum(r => r.Tcp!.Value.BytesSent) : (long?)null;
            var io = runs.All(r => r.ChildIo is not null) ? new ProcessIo(runs.Sum(r => r.ChildIo!.Value.ReadChars), runs.Sum(r => r.ChildIo!.Value.WriteChars)) : (ProcessIo?)null;
            table.AddRow(
                $"{group.Key.SizeMiB.ToString("0.####", CultureInfo.InvariantCulture)} MiB",
                group.Key.Path == WirePath ? "ring wire" : "Akka.Delivery",
                $"{runs.Count} × {runs[0].Result.Count}",
                $"{runs.Max(r => r.Rate):F1} MiB/s",
                $"{TransferRate.Median(runs.Select(r => r.Rate)):F1} MiB/s",
                Units.Bytes(application),
                received is { } r ? Units.Bytes(r) : "–",
                received is { } q ? Units.Ratio((double)q / application) : "–",
                sent is { } s ? Units.Bytes(s) : "–",
                io is { } i ? Units.Bytes(i.ReadChars) : "–",
                io is { } w ? Units.Bytes(w.WriteChars) : "–");
        }

        console.Write(table);
    }

    private static async Task<TransferResult> MeasureAsync(
        ActorSystem system, Address child, string path, double sizeMiB, int count, int window, int deliveryChunk, CancellationToken cancellationToken)
    {
        var tokens = TransportPlan.TokensFor(sizeMiB);
        var floats = tokens * TransportPlan.RowFloats;
        var keys = new float[floats];
        var values = new float[floats];
        new Random(tokens).NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(keys.AsSpan()));
        keys.AsSpan().CopyTo(values);
        var block = new AcceptBlock("transport-bench", 0, 0, 0, 0, keys, values, [.. Enumerable.Range(0, tokens)]);

        // Bounded: generous for a slow shared machine (≥ 1 MiB/s), never forever.
        var deadline = TimeSpan.FromSeconds(60 + (count * sizeMiB));
        var done = new TaskCompletionSource<TransferResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var deploy = new Deploy(new RemoteScope(child));
        var name = $"{path}-{Guid.NewGuid():N}";
        var started = new List<IActorRef>();
        try
        {
            if (path == WirePath)
            {
                var receiver = system.ActorOf(WireReceiver.Props().WithDeploy(deploy), name + "-receiver");
                started.Add(receiver);
                started.Add(system.ActorOf(WireSender.Props(receiver, block, count, window, done), name + "-sender"));
            }
            else
            {
                var packed = new PackedBlock(block);
                var ring = (RingMessageSerializer)system.Serialization.FindSerializerForType(typeof(BlockChunk));
                var chunksPerBlock = (int)((ring.FrameSize(block) + 64 + deliveryChunk - 1) / deliveryChunk);

                // The consumer's flow-control window counts chunks: window blocks' worth, so both paths allow the same bytes in
                // flight. At least 4 and even: with a window of 2 the ConsumerController asked for nothing beyond seqNr 2 and
                // the transfer stalled (it requests more only when exactly window/2 messages remain, see ConsumerControllerImpl).
                var flowWindow = System.Math.Max(4, window * chunksPerBlock);
                var receiver = system.ActorOf(DeliveryReceiver.Props(flowWindow + (flowWindow % 2)).WithDeploy(deploy), name + "-receiver");
                started.Add(receiver);
                var consumerController = await ResolveAsync(system, receiver.Path / DeliveryReceiver.ControllerName, cancellationToken);
                var producerController = system.ActorOf(
                    ProducerController.Create<PackedBlock>(system, name, Option<Props>.None, ProducerController.Settings.Create(system)), name + "-producer-controller");
                started.Add(producerController);
                started.Add(system.ActorOf(DeliverySender.Props(producerController, packed, count, window, done), name + "-sender"));
                producerController.Tell(new ProducerController.RegisterConsumer<PackedBlock>(consumerController));
            }

            return await done.Task.WaitAsync(deadline, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException($"{path}: {count} hand-offs of {sizeMiB} MiB not acknowledged within {deadline.TotalSeconds:F0} s");
        }
        finally
        {
            foreach (var actor in started)
            {
                system.Stop(actor);
            }
        }
    }

    /// <summary>The consumer controller its receiver starts on the other node; asked a few times, since deployment is asynchronous.</summary>
    private static async Task<IActorRef> ResolveAsync(ActorSystem system, ActorPath path, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await system.ActorSelection(path).ResolveOne(TimeSpan.FromSeconds(2), cancellationToken);
            }
            catch (ActorNotFoundException) when (attempt < 10)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), cancellationToken);
            }
        }
    }
}
