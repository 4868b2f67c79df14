using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using RingActors.Actors.Cluster;
using RingActors.Actors.Devices;
using RingActors.Actors.Faults;
using RingActors.Actors.Protocol;
using RingActors.Actors.Serialization;
using static RingActors.Actors.Protocol.FaultProtocol;
using static RingActors.Actors.Protocol.GradientProtocol;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors;

/// <summary>
/// Runs one ring job: spawns and watches the P devices (on the placement's nodes in a cluster job), gives each its chunk by
/// layout, starts the ring, collects the chunks' results and reassembles the full output in the original token order. It never
/// relays a block: devices hand off to each other over their own links. The job fails with a one-line reason — never hangs —
/// when a device throws or stops and cannot be re-created, refuses a block of this job, or the deadline passes. Replies once
/// to the sender of <see cref="RunJob"/> with <see cref="JobCompleted"/> or <see cref="JobFailed"/>, then stops (and its devices
/// with it).
/// <para>
/// Decisions live in plain classes with their own specs: <c>ResultCollector</c> (progress and results of each pass),
/// <see cref="RecoveryPolicy"/> (whether and where a lost device is re-created), <see cref="DevicePlacement"/> (which node runs
/// which device), <see cref="NodeFaultSchedule"/> (when a node fault strikes), <see cref="FaultLedger"/> (what faults cost),
/// <see cref="DeviceSetupFactory"/> (every device's setup) and <see cref="JobSenders"/> (whom it takes messages from). This actor
/// routes events into them.
/// </para>
/// </summary>
public sealed class RingSupervisor : ReceiveActor, IWithTimers
{
    private const string DeadlineTimer = "deadline";
    private const string WatchdogTimer = "watchdog";

    private readonly RingJob _job;
    private readonly IProgress<RingProgress>? _progress;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly FaultPlan? _plan;
    private readonly ResultCollector<ChunkCompleted> _collector;
    private readonly ResultCollector<GradientsCompleted> _gradients;
    private RingPass _pass = RingPass.Forward;
    private long _backwardStartedAt;
    private float[][] _outputGradients = [];
    private readonly RecoveryPolicy _recovery;
    private readonly NodeFaultSchedule _nodeFaults;
    private readonly FaultLedger? _ledger;
    private readonly IActorRef[] _current;
    private readonly Dictionary<IActorRef, int> _devices = [];

    // Every incarnation's epoch (never removed: a lost one's last messages still name their clock), and the devices' clocks.
    private readonly Dictionary<IActorRef, (int Device, int Epoch)> _incarnations = [];
    private readonly MeasuredTimelines _timelines = new();
    private readonly Dictionary<IActorRef, Exception> _failures = [];
    private readonly DeviceLoss[] _losses;
    private readonly HashSet<Address> _down = [];
    private readonly JobSenders _senders;
    private readonly LogOnce _drops = new();
    private readonly HashSet<Address> _lostNodes = [];
    private readonly List<Math.QueryChunk> _pooledChunks = [];
    private readonly List<Math.KeyValueBlock> _pooledBlocks = [];
    private readonly RingWatchdog _watchdog;
    private readonly IRingMessage[] _setups;

    // The backward's one-shot messages, kept so the watchdog can send them again: each device's StartBackward, and the
    // requests to recompute a contribution for a home re-created during the backward (by home).
    private readonly StartBackward?[] _backwardStarts;
    private readonly Dictionary<int, List<(IActorRef To, RecomputeContribution Request)>> _recomputes = [];

    // The order in which each pass starts the devices: the most work first (see Launch).
    private int[] _startOrder = [];

    // Devices lost after their forward result but before the backward started: the backward still needs them (their chunk's
    // dQ, their block's dK/dV), so they are re-created when it starts.
    private readonly SortedSet<int> _lostBeforeBackward = [];

    // Devices lost during the backward after their gradients were in: nothing waits for them unless a home is re-created
    // later, which needs their contribution again; then they are re-created too.
    private readonly SortedSet<int> _lostAfterGradients = [];
    private DevicePlacement? _placement;
    private SequenceLayout? _layout;
    private IActorRef? _replyTo;
    private long _startedAt;
    private long _ringStartedAt;
    private long _networkBytes;
    private bool _flushRequested;
    private bool _watchingMembers;
    private WireInbox? _inbox;

    public RingSupervisor(RingJob job, IProgress<RingProgress>? progress, CancellationToken cancellation)
    {
        _job = job;
        _progress = progress;
        _senders = new JobSenders(cancellation);
        var devices = job.Settings.Devices;
        _plan = job.Settings.Faults?.ForTrial(job.Settings.Trial, devices, job.Settings.Backward is null ? devices : 2 * devices);
        _collector = new ResultCollector<ChunkCompleted>(devices, r => r.Device);
        _gradients = new ResultCollector<GradientsCompleted>(devices, r => r.Device);
        _recovery = new RecoveryPolicy(_plan, devices);
        _nodeFaults = new NodeFaultSchedule(_plan);
        _ledger = _plan is null ? null : new FaultLedger(_plan, job.Settings.Trial);
        _current = new IActorRef[devices];
        _losses = Enumerable.Range(0, devices).Select(_ => new DeviceLoss()).ToArray();
        _placement = job.Settings.Placement;
        _watchdog = new RingWatchdog(devices, job.System.ResendAfter);
        _setups = new IRingMessage[devices];
        _backwardStarts = new StartBackward?[devices];
        Idle();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>
    /// A supervisor for <paramref name="job"/>; send it <see cref="RunJob.Instance"/> to run it. Progress is reported from the
    /// actor's thread. A <see cref="CancelJob"/> is obeyed only once <paramref name="cancellation"/> has fired (see <see cref="JobSenders"/>).
    /// </summary>
    public static Props Props(RingJob job, IProgress<RingProgress>? progress = null, CancellationToken cancellation = default) =>
        Akka.Actor.Props.Create(() => new RingSupervisor(job, progress, cancellation));

    /// <summary>A device that throws is stopped, and its exception kept so that the job's failure (or its recovery) can name it.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new StopAndRecord(_failures);

    protected override void PostStop()
    {
        // Whatever stopped us (a crash of this actor included), the caller gets an answer.
        _replyTo?.Tell(new JobFailed(_job.JobId, "the ring supervisor stopped before the job finished"));
        _replyTo = null;
        if (_watchingMembers)
        {
            Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
        }

        base.PostStop();
    }

    private static long Now => Stopwatch.GetTimestamp();

    private int Devices => _job.Settings.Devices;

    private void Idle()
    {
        Receive<RunJob>(m => !JobSenders.MayRun(Sender), m => Drop(m, "a job is started only from this process"));
        Receive<RunJob>(_ =>
        {
            _replyTo = Sender;
            Become(Running);
            try
            {
                Launch();
            }
            catch (Exception e)
            {
                // Settings were validated before; anything left is a bug, and the caller still gets a reason rather than a hang.
                Fail($"could not start the ring: {e.GetType().Name}: {e.Message}");
            }
        });

        // Cancelled before it was asked to run (the caller's token fired in between): the RunJob that follows is answered at once.
        Receive<CancelJob>(m => !_senders.MayCancel, m => Drop(m, "the caller did not cancel the job"));
        Receive<CancelJob>(_ => Become(() => Receive<RunJob>(_ =>
        {
            _replyTo = Sender;
            Fail("cancelled", cancelled: true);
        })));
        Receive<IRingMessage>(m => Drop(m, "the job has not started"));
    }

    private void Running()
    {
        Receive<BlockChunk>(OnChunk);
        Receive<WireInbox.SweepDue>(_ => SweepWire());

        // Device events from anyone but this job's devices are dropped (logged once): a stranger's refusal or link failure
        // would otherwise fail the job, its progress count it done.
        Receive<IRingMessage>(m => IsDeviceEvent(m) && !_senders.IsDevice(Sender), m => Drop(m, "only this job's devices send this"));
        Receive<BlockComputed>(m => m.JobId == _job.JobId, m =>
        {
            if (m.Pass == RingPass.Forward ? _collector.BlockDone(m.Device) : _gradients.BlockDone(m.Device))
            {
                InjectNodeFaults(m.Device);
                ReportProgress();
            }
        });
        Receive<ChunkCompleted>(m => m.JobId == _job.JobId, OnChunkCompleted);
        Receive<GradientsCompleted>(m => m.JobId == _job.JobId, OnGradientsCompleted);
        Receive<BlockRefused>(m => m.JobId == _job.JobId, m =>
            Fail($"device {m.Device} refused the block of device {m.Origin} for step {m.Step}: {m.Reason}"));
        Receive<Terminated>(t =>
        {
            if (t.AddressTerminated && _placement is not null)
            {
                NodeLost(t.ActorRef.Path.Address, "terminated (DeathWatch)");
            }

            OnDeviceStopped(t.ActorRef);
        });
        Receive<ClusterEvent.UnreachableMember>(m => NodeLost(m.Member.Address, "unreachable"));
        Receive<ClusterEvent.MemberRemoved>(m => NodeLost(m.Member.Address, "removed from the cluster"));
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
        Receive<FaultObserved>(m => m.JobId == _job.JobId, m => _ledger?.Add(OnOurClock(m.Event)));
        Receive<FaultsFlushed>(m => m.JobId == _job.JobId, m =>
        {
            // Counted once per device: the watchdog's repeated FlushFaults may bring a second answer.
            if (IsCurrent(m.Link) && _watchdog.Flushed(m.Link, Elapsed) && _watchdog.AllFlushed)
            {
                Finish();
            }
        });
        Receive<SetupTaken>(m => m.JobId == _job.JobId, m =>
        {
            if (IsCurrent(m.Device))
            {
                _watchdog.Took(m.Device, m.Started, Elapsed);
                if (m.Started)
                {
                    _timelines.Began(m.Device, EpochOf(Sender), m.StartedAt, Now);
                }
            }
        });
        Receive<WatchdogTick>(_ => ResendUnacknowledged());
        Receive<LinkFailed>(m => m.JobId == _job.JobId, m =>
        {
            // A link that gave up on a receiver whose node is down is no failure: the re-created receiver resumes the link.
            // Step P marks a backward contribution, whose receiver is the home it names (Origin), not the successor.
            var receiver = m.Step >= Devices ? m.Origin : (m.Link + 1) % Devices;
            if (_placement is null || (uint)receiver >= (uint)Devices || !_down.Contains(_placement[receiver]))
            {
                Fail(m.Reason);
            }
        });
        Receive<DeviceKilled>(m => m.JobId == _job.JobId, m =>
        {
            if ((uint)m.Device < (uint)Devices)
            {
                // Detection follows with the device's Terminated (DeathWatch). Its time and timeline are on its own clock.
                var epoch = EpochOf(Sender);
                _losses[m.Device].KilledAt = _timelines.ToSupervisor(m.Device, epoch, m.At);
                if (m.Timeline is { } partial && partial.Device == m.Device)
                {
                    _timelines.Lost(m.Device, epoch, partial);
                }
            }
        });
        Receive<DeadlineExceeded>(_ => Fail(
            (_pass == RingPass.Forward
                ? $"not finished after {_job.Deadline}: {_collector.BlocksDone} of {Devices * Devices} blocks merged; devices still running: {_collector.StillRunning()}"
                : $"not finished after {_job.Deadline}: backward: {_gradients.BlocksDone} of {Devices * Devices} blocks computed; devices still running: {_gradients.StillRunning()}")
            + (_plan is { } plan ? $" (faults: {plan.Describe()}; {_recovery.Restarts} devices re-created)" : string.Empty)
            + (_watchdog.Resends > 0 ? $"; {_watchdog.Resends} unacknowledged messages sent again" : string.Empty)));
        Receive<CancelJob>(m =>
        {
            if (_senders.MayCancel)
            {
                Fail("cancelled", cancelled: true);
            }
            else
            {
                Drop(m, "the caller did not cancel the job");
            }
        });
        Receive<RunJob>(m => !JobSenders.MayRun(Sender), m => Drop(m, "a job is started only from this process"));
        Receive<RunJob>(_ => Sender.Tell(new JobFailed(_job.JobId, "the job is already running")));
        Receive<IRingMessage>(m => Drop(m, "not a message of this job"));
    }

    private void Done()
    {
        // Devices stopping with us, and late events, need no answer.
        ReceiveAny(_ => { });
    }

    private void Launch()
    {
        _startedAt = Now;
        var input = _job.Input;
        _layout = new SequenceLayout(_job.Settings.Layout, input.Shape.SeqLen, Devices);

        // Each pass starts the devices with the most work first: their first kernels take the free compute slots before the
        // lighter devices' (ComputeGate orders only the kernels that wait).
        _startOrder = Enumerable.Range(0, Devices)
            .OrderByDescending(r => PairCounting.PairsBound(_job.Settings.Causal, input.Shape.SeqLen, _layout.Positions(r))).ToArray();
        if (_placement is not null && _nodeFaults.Unresolved(_placement) is { } unresolved)
        {
            Fail(unresolved);
            return;
        }

        for (var r = 0; r < Devices; r++)
        {
            Spawn(r, 0, _placement?[r]);
        }

        var topology = new RingTopology(Devices);
        for (var r = 0; r < Devices; r++)
        {
            var chunk = _layout.QueryChunkOf(input, r, ChunkBufferPool.Shared);
            var block = _layout.KeyValueBlockOf(input, r, ChunkBufferPool.Shared);
            _pooledChunks.Add(chunk);
            _pooledBlocks.Add(block);
            _setups[r] = new AssignChunk(
                _job.JobId, chunk.Data, chunk.Positions, block.Keys, block.Values, block.Positions,
                _current[topology.Predecessor(r)], _current[topology.Successor(r)], Self);
            _networkBytes += RingWire.Tell(Context.System, _current[r], _setups[r], Self);
            _watchdog.SetupSent(r, Elapsed);
        }

        _ringStartedAt = Now;
        foreach (var r in _startOrder)
        {
            _timelines.Ordered(r, 0, _ringStartedAt, !RingWire.IsRemote(_current[r]));
            _networkBytes += RingWire.Tell(Context.System, _current[r], new StartRing(_job.JobId), Self);
        }

        if (_placement is not null && Context.System.Settings.Config.GetString("akka.actor.provider", string.Empty).Contains("cluster", StringComparison.OrdinalIgnoreCase))
        {
            Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.UnreachableMember), typeof(ClusterEvent.MemberRemoved));
            _watchingMembers = true;
        }

        for (var r = 0; r < Devices; r++)
        {
            InjectNodeFaults(r);
        }

        Timers.StartSingleTimer(DeadlineTimer, DeadlineExceeded.Instance, _job.Deadline);
        Timers.StartPeriodicTimer(WatchdogTimer, WatchdogTick.Instance, WatchdogTick.Every(_job.System.ResendAfter));
        ReportProgress();
    }

    /// <summary>Creates incarnation <paramref name="epoch"/> of device <paramref name="r"/>, on <paramref name="node"/> when given (still our child, watched and supervised as a local one).</summary>
    private IActorRef Spawn(int r, int epoch, Address? node)
    {
        var props = DeviceActor.Props(DeviceSetupFactory.For(_job, _plan, r, epoch));
        if (node is not null)
        {
            // Remote deployment: its Props' argument, the DeviceSetup, travels through RingMessageSerializer with the pattern as its spec.
            props = props.WithDeploy(new Deploy(new RemoteScope(node)));
        }

        var device = Context.ActorOf(props, epoch == 0 ? $"device-{r}" : $"device-{r}-e{epoch}");
        Context.Watch(device);
        _senders.Spawned(device);
        _devices[device] = r;
        _incarnations[device] = (r, epoch);
        _current[r] = device;
        return device;
    }

    /// <summary>A piece of a device's large result: once whole, handled like the result itself; a refused transfer is logged once and dropped.</summary>
    private void OnChunk(BlockChunk chunk)
    {
        _inbox ??= new WireInbox(Context.System);
        var result = _inbox.Accept(chunk, Sender);
        if (result.Message is { } message)
        {
            Self.Tell(message, Sender);
        }
        else if (result.Reason is { } reason && _drops.Line(WireInbox.KindOf(reason), $"Ring job {_job.JobId}: {reason}") is { } line)
        {
            _log.Warning("{0}", line); // once per kind of refusal: a peer may forge thousands of transfers
        }

        _inbox.ScheduleSweep(Timers);
    }

    private void SweepWire()
    {
        var (transfers, bytes) = _inbox?.Sweep() ?? default;
        if (transfers > 0)
        {
            _log.Warning("Ring job {0}: freed {1} partial transfers ({2} bytes) that received nothing for ring-actors.transport.transfer-timeout", _job.JobId, transfers, bytes);
        }

        _inbox?.ScheduleSweep(Timers);
    }

    private void OnChunkCompleted(ChunkCompleted m)
    {
        if (RingWire.IsRemote(Sender) && Context.System.Serialization.FindSerializerFor(m) is RingMessageSerializer serializer)
        {
            // The result is counted where it arrives (the device cannot count the message that carries its own statistics),
            // and booked to the device that sent it.
            var bytes = serializer.FrameSize(m);
            m = m with { Stats = m.Stats with { NetworkBytesToSupervisor = m.Stats.NetworkBytesToSupervisor + bytes, NetworkBytesSent = m.Stats.NetworkBytesSent + bytes } };
        }

        if (IsCurrent(m.Device) && _collector.HasResult(m.Device))
        {
            return; // the same result again, the answer to the watchdog's repeated StartRing
        }

        if (!_devices.TryGetValue(Sender, out var sender) || sender != m.Device || !_collector.Finished(m))
        {
            _log.Warning("Ring job {0}: a result for device {1} from {2} was not taken", _job.JobId, m.Device, Sender.Path);
            return;
        }

        _watchdog.Completed(m.Device, Elapsed);

        NoteRecovered(m.Device);
        ReportProgress();
        if (_collector.AllIn)
        {
            FinishAfterFaults();
        }
    }

    /// <summary>
    /// Every chunk is in. A device reports a recovered hand-off when its acknowledgement arrives, which may be after the last
    /// chunk reached us: under a fault plan each device is asked to flush first (it answers once its link is idle), then we finish.
    /// </summary>
    private void FinishAfterFaults()
    {
        if (_plan is null || Devices == 1)
        {
            Finish();
            return;
        }

        if (!_flushRequested)
        {
            _flushRequested = true;
            _watchdog.Flushing(Elapsed);
            foreach (var device in _current)
            {
                _networkBytes += RingWire.Tell(Context.System, device, new FlushFaults(_job.JobId), Self);
            }
        }
    }

    /// <summary>Every result of the pass is in (and, under a fault plan, flushed): the backward starts, or the job ends.</summary>
    private void Finish()
    {
        if (_job.Settings.Backward is not null && _pass == RingPass.Forward)
        {
            StartBackward();
            return;
        }

        FinishJob();
    }

    /// <summary>
    /// Every forward result is in: each device's output and lse are the global ones, so the backward can start. Each device
    /// gets dO of its chunk and where every home is (the current incarnation of each device); its Q, O, lse and own block it kept.
    /// </summary>
    private void StartBackward()
    {
        _pass = RingPass.Backward;
        _flushRequested = false; // the backward's results are flushed again before the job ends
        _backwardStartedAt = Now;
        var homes = _current.ToArray();
        var epochs = Enumerable.Range(0, Devices).Select(_recovery.EpochOf).ToArray();
        _outputGradients = new float[Devices][];
        var gradientInput = new Math.AttentionInput(_job.Input.Shape, _job.Settings.Backward!.OutputGradient, _job.Input.K, _job.Input.V);
        foreach (var r in _startOrder)
        {
            _outputGradients[r] = _layout!.QueryChunkOf(gradientInput, r).Data;
            _backwardStarts[r] = new StartBackward(_job.JobId, _outputGradients[r], homes, epochs);
            _networkBytes += RingWire.Tell(Context.System, _current[r], _backwardStarts[r]!, Self);
        }

        _watchdog.PassStarted(Elapsed);

        // A device lost after its forward result is recovered as if lost at the backward's first step (its StartBackward
        // above went nowhere): the others learn its new incarnation and contribute to its block again.
        foreach (var r in _lostBeforeBackward)
        {
            if (_replyTo is not null)
            {
                Recover(r, _losses[r].Cause!);
            }
        }

        _lostBeforeBackward.Clear();
        ReportProgress();
    }

    private void OnGradientsCompleted(GradientsCompleted m)
    {
        if (RingWire.IsRemote(Sender) && Context.System.Serialization.FindSerializerFor(m) is RingMessageSerializer serializer)
        {
            var bytes = serializer.FrameSize(m);
            m = m with { Stats = m.Stats with { NetworkBytesToSupervisor = m.Stats.NetworkBytesToSupervisor + bytes, NetworkBytesSent = m.Stats.NetworkBytesSent + bytes } };
        }

        var shape = _job.Input.Shape;
        var rows = _layout!.Count(m.Device);
        var fits = m.QueryGradient.Length == (long)shape.Batch * shape.Heads * rows * shape.HeadDim
            && m.KeyGradient.Length == (long)shape.Batch * shape.KvHeads * rows * shape.HeadDim && m.ValueGradient.Length == m.KeyGradient.Length;
        if (IsCurrent(m.Device) && _gradients.HasResult(m.Device))
        {
            // The same gradients again: the answer to the watchdog's repeated StartBackward, or from a device re-created
            // after it had reported (only for its contributions), which is recovered now.
            _watchdog.Completed(m.Device, Elapsed);
            NoteRecovered(m.Device, m.Stats);
            return;
        }

        if (!_devices.TryGetValue(Sender, out var sender) || sender != m.Device || !fits || !_gradients.Finished(m))
        {
            _log.Warning("Ring job {0}: gradients for device {1} from {2} were not taken", _job.JobId, m.Device, Sender.Path);
            return;
        }

        _watchdog.Completed(m.Device, Elapsed);

        NoteRecovered(m.Device, m.Stats);
        ReportProgress();
        if (_gradients.AllIn)
        {
            FinishAfterFaults();
        }
    }

    /// <summary>Whether device <paramref name="r"/> has nothing left to do in the current pass (its result is in).</summary>
    private bool Finished(int r) => _pass == RingPass.Forward ? _collector.HasResult(r) : _gradients.HasResult(r);

    private void FinishJob()
    {
        var ringEnded = Now;
        var shape = _job.Input.Shape;
        var layout = _layout!;
        var rows = shape.Batch * shape.Heads;
        var phantom = _job.Input.IsPhantom;
        var output = phantom ? [] : new float[shape.QueryLength];
        var lse = phantom ? [] : new float[rows * shape.SeqLen];
        var results = _collector.Results;
        var stats = new DeviceStats[Devices];
        for (var r = 0; r < Devices; r++)
        {
            if (!phantom)
            {
                layout.Scatter(results[r].Output, r, rows, shape.HeadDim, output);
                layout.Scatter(results[r].Lse, r, rows, 1, lse);
            }

            stats[r] = results[r].Stats;
        }

        // Every device is done with its chunk and blocks: the next job may reuse them. (A failed job leaves them to the GC:
        // a device may still be computing on them while it stops.)
        foreach (var chunk in _pooledChunks)
        {
            SequenceLayout.Release(chunk, ChunkBufferPool.Shared);
        }

        foreach (var block in _pooledBlocks)
        {
            SequenceLayout.Release(block, ChunkBufferPool.Shared);
        }

        _pooledChunks.Clear();
        _pooledBlocks.Clear();
        if (_ledger is not null)
        {
            _ledger.Restarts = _recovery.Restarts;
        }

        var forwardEnded = _job.Settings.Backward is null ? ringEnded : _backwardStartedAt;
        var ring = new RingResult(
            _job.JobId, shape, _job.Settings, output, lse, stats,
            Stopwatch.GetElapsedTime(_startedAt, Now), Stopwatch.GetElapsedTime(_ringStartedAt, forwardEnded))
        {
            Gradients = _job.Settings.Backward is null ? null : AssembleGradients(),
            BackwardDevices = _job.Settings.Backward is null ? null : _gradients.Results.Select(g => g.Stats).ToList(),
            BackwardRingTime = _job.Settings.Backward is null ? TimeSpan.Zero : Stopwatch.GetElapsedTime(_backwardStartedAt, ringEnded),
            BackwardTimeline = _job.Settings.Backward is null || _gradients.Results.Any(g => g.MeasuredTimeline is null)
                ? null
                : _timelines.Assemble([.. _gradients.Results.Select(g => (g.Stats.Epoch, g.MeasuredTimeline!))], _backwardStartedAt, withLost: false),
            Faults = _ledger?.Report(_ringStartedAt),
            VirtualTimeline = RingTimelines.Virtual(results, _job.Settings.VirtualTime),
            MeasuredTimeline = results.Any(r => r.MeasuredTimeline is null) ? null : _timelines.Assemble([.. results.Select(r => (r.Stats.Epoch, r.MeasuredTimeline!))], _ringStartedAt, withLost: true),
            ClockAlignments = _timelines.Alignments,
            Placement = _placement?.Describe(),
            SupervisorNetworkBytes = _networkBytes,
            NetworkBytes = _networkBytes + stats.Sum(s => s.NetworkBytesSent) + (_job.Settings.Backward is null ? 0 : _gradients.Results.Sum(g => g.Stats.NetworkBytesSent)),
        };
        Reply(new JobCompleted(ring));
    }

    /// <summary>dQ, dK and dV of every device's chunk and block put back in the original token order.</summary>
    private Math.AttentionGradients AssembleGradients()
    {
        var shape = _job.Input.Shape;
        var layout = _layout!;
        var queries = new float[shape.QueryLength];
        var keys = new float[shape.KeyValueLength];
        var values = new float[shape.KeyValueLength];
        foreach (var g in _gradients.Results)
        {
            layout.Scatter(g.QueryGradient, g.Device, shape.Batch * shape.Heads, shape.HeadDim, queries);
            layout.Scatter(g.KeyGradient, g.Device, shape.Batch * shape.KvHeads, shape.HeadDim, keys);
            layout.Scatter(g.ValueGradient, g.Device, shape.Batch * shape.KvHeads, shape.HeadDim, values);
        }

        return new Math.AttentionGradients(queries, keys, values);
    }

    private void OnDeviceStopped(IActorRef device)
    {
        if (!_devices.Remove(device, out var r) || !_current[r].Equals(device))
        {
            return;
        }

        if (Finished(r))
        {
            LostAfterResult(r, _losses[r].Cause ?? $"device {r} stopped after its {(_pass == RingPass.Forward ? "forward result" : "gradients")}");
            if (_replyTo is not null && _flushRequested && _watchdog.AllFlushed)
            {
                Finish();
            }

            return;
        }

        var cause = _losses[r].Cause
            ?? (_failures.TryGetValue(device, out var failure)
                ? failure is RingDeviceException ? failure.Message : $"device {r} failed: {failure.GetType().Name}: {failure.Message}"
                : $"device {r} stopped before finishing ({_collector.BlocksDoneBy(r)} of {Devices} blocks merged)");
        Recover(r, cause);
    }

    /// <summary>Re-creates device <paramref name="r"/> when the plan allows, with its chunk and every block from us; otherwise the job fails.</summary>
    private void Recover(int r, string cause)
    {
        switch (_recovery.Decide(r, cause, _placement, _down))
        {
            case RecoveryDecision.GiveUp giveUp:
                Fail(_plan is null && _placement is not null && _down.Contains(_placement[r])
                    ? $"{cause}: device {r} lost ({_collector.BlocksDoneBy(r)} of {Devices} blocks merged) and the job has no fault plan to recover it"
                    : giveUp.Reason);
                return;
            case RecoveryDecision.Recreate recreate:
                if (recreate.Node is { } node && _placement is not null && !_placement[r].Equals(node))
                {
                    _placement = _placement.Moved(r, node);
                }

                _losses[r].CrashedAt = Now;
                var device = Spawn(r, recreate.Epoch, recreate.Node);

                // Its setup is its order to start: it begins on receipt (before that, no clock of it can be known).
                _timelines.Ordered(r, recreate.Epoch, _losses[r].CrashedAt, !RingWire.IsRemote(device));
                var topology = new RingTopology(Devices);
                var chunk = _layout!.QueryChunkOf(_job.Input, r, ChunkBufferPool.Shared);
                var blocks = Enumerable.Range(0, Devices).Select(s => _layout.KeyValueBlockOf(_job.Input, topology.OriginAt(r, s), ChunkBufferPool.Shared)).ToList();
                _pooledChunks.Add(chunk);
                _pooledBlocks.AddRange(blocks);
                if (_pass == RingPass.Backward)
                {
                    RecoverBackward(r, recreate.Epoch, device, chunk, blocks);
                }
                else
                {
                    _collector.Restarted(r);
                    _setups[r] = new RecoverChunk(
                        _job.JobId, chunk.Data, chunk.Positions, blocks, _current[topology.Predecessor(r)], _current[topology.Successor(r)], Self);
                    _networkBytes += RingWire.Tell(Context.System, device, _setups[r], Self);
                    _watchdog.SetupSent(r, Elapsed, recovering: true);
                }

                _log.Warning("Ring job {0}: {1}; re-created as epoch {2}{3}", _job.JobId, cause, recreate.Epoch, recreate.Node is null ? string.Empty : $" on {recreate.Node}");
                return;
        }
    }

    /// <summary>
    /// Device <paramref name="r"/> was re-created during the backward as <paramref name="device"/>: it gets its chunk, dO, its
    /// forward output and lse (which we hold) and every block, and recomputes dQ and all its contributions. Its own block's
    /// sums died with it: every other device is asked to compute its contribution to that block again and send it to the new
    /// incarnation, which sums one per contributor (so a contribution the old one had, or one still on its way, counts once).
    /// </summary>
    private void RecoverBackward(int r, int epoch, IActorRef device, Math.QueryChunk chunk, IReadOnlyList<Math.KeyValueBlock> blocks)
    {
        _gradients.Restarted(r);
        var topology = new RingTopology(Devices);
        var forward = _collector.ResultOf(r)!;
        var epochs = Enumerable.Range(0, Devices).Select(_recovery.EpochOf).ToArray();
        _setups[r] = new RecoverBackward(
            _job.JobId, chunk.Data, chunk.Positions, _outputGradients[r], forward.Output, forward.Lse, blocks, _current.ToArray(), epochs,
            _current[topology.Predecessor(r)], _current[topology.Successor(r)], Self);
        _networkBytes += RingWire.Tell(Context.System, device, _setups[r], Self);
        _watchdog.SetupSent(r, Elapsed, recovering: true);
        var requests = new List<(IActorRef To, RecomputeContribution Request)>();
        var gone = _lostAfterGradients.Where(other => other != r).ToList();
        for (var other = 0; other < Devices; other++)
        {
            if (other != r && !gone.Contains(other))
            {
                var request = new RecomputeContribution(_job.JobId, r, epoch, device, blocks[0]);
                requests.Add((_current[other], request));
                _networkBytes += RingWire.Tell(Context.System, _current[other], request, Self);
            }
        }

        _recomputes[r] = requests;

        // A contributor that finished and was lost since cannot recompute its contribution to the new home: it is re-created
        // (it recomputes every contribution of its chunk, sent to the homes as they are now; the homes that had one drop the
        // repeat, and its repeated gradients are not counted again).
        foreach (var other in gone)
        {
            _lostAfterGradients.Remove(other);
            if (_replyTo is not null)
            {
                Recover(other, $"{_losses[other].Cause}; re-created for the contribution re-created device {r} needs");
            }
        }
    }

    /// <summary>A re-created device finished: its crash is recovered; record what it cost.</summary>
    private void NoteRecovered(int r) => NoteRecovered(r, _collector.ResultOf(r)!.Stats);

    private void NoteRecovered(int r, DeviceStats stats)
    {
        var loss = _losses[r];
        if (_ledger is null || loss.CrashedAt == 0)
        {
            return;
        }

        _ledger.PairsRecomputed += stats.PairsComputed;
        var kill = loss.Cause ?? _plan!.Faults.OfType<FaultSpec.KillDevice>().FirstOrDefault(k => k.Device == r)?.ToString() ?? $"crash of device {r}";
        _ledger.Add(new FaultEvent(
            kill,
            $"device {r}",
            loss.KilledAt != 0 ? loss.KilledAt : loss.CrashedAt,
            loss.CrashedAt,
            Now,
            "re-created with its chunk and blocks from the supervisor; its chunk recomputed, the hand-offs its successor still needed resent",
            stats.HandOffsSent,
            stats.BytesReceived + stats.BytesSent));
        _losses[r] = new DeviceLoss();
    }

    /// <summary>Device <paramref name="r"/> merged a block: the node faults of its node whose step has come strike now.</summary>
    private void InjectNodeFaults(int r)
    {
        if (_placement is null)
        {
            return;
        }

        // Steps count on through the backward: a node fault at step P + s strikes at the backward's step s.
        foreach (var due in _nodeFaults.Due(r, _collector.BlocksDoneBy(r) + _gradients.BlocksDoneBy(r), _placement))
        {
            if (due.Fault is FaultSpec.CrashNode)
            {
                _down.Add(due.Node);
                var now = Now;
                foreach (var d in _placement.DevicesOn(due.Node).Where(d => !Finished(d)))
                {
                    _losses[d].KilledAt = now;
                    _losses[d].Cause = due.Fault.ToString();
                }

                _log.Warning("Ring job {0}: {1}: crashing node {2}", _job.JobId, due.Fault, due.Node);
                Context.ActorSelection(NodeAgent.Path(due.Node)).Tell(new CrashOrder(due.Fault.ToString()), Self);
                continue;
            }

            // The ring's traffic to and from the node's devices is cut at the devices' links (membership and our own messages
            // are not): acknowledgements and retransmissions bridge it.
            var partition = (FaultSpec.Partition)due.Fault;
            _log.Warning("Ring job {0}: {1}: cutting node {2} off the ring for {3}", _job.JobId, partition, due.Node, partition.Duration);
            foreach (var (link, senderCut, receiverCut) in due.Links)
            {
                _networkBytes += RingWire.Tell(Context.System, _current[link], new PartitionLink(_job.JobId, partition.ToString(), senderCut, receiverCut, partition.Duration), Self);
            }
        }
    }

    /// <summary>A device node fell silent or was removed: its unfinished devices are re-created on survivors (or the job fails).</summary>
    private void NodeLost(Address node, string how)
    {
        if (_placement is null || !_placement.Nodes.Contains(node) || _lostNodes.Contains(node))
        {
            return;
        }

        _lostNodes.Add(node);
        _down.Add(node);
        var lost = _devices.Where(d => _placement[d.Value].Equals(node) && !Finished(d.Value)).ToList();
        var finished = _devices.Where(d => _placement[d.Value].Equals(node) && Finished(d.Value)).ToList();
        _log.Warning("Ring job {0}: device node {1} {2}; {3} unfinished device(s) there", _job.JobId, node, how, lost.Count);

        // Its finished devices first: they answer no flush (waiting for them would last until the deadline), and a device of
        // the node re-created below must know them gone, or it would wait for their contributions.
        foreach (var (device, r) in finished)
        {
            Context.Unwatch(device);
            _devices.Remove(device);
            LostAfterResult(r, _losses[r].Cause ?? $"node {node} {how}");
        }

        foreach (var (device, r) in lost)
        {
            if (_replyTo is null)
            {
                return; // a recovery before failed the job
            }

            Context.Unwatch(device);
            _devices.Remove(device);
            _losses[r].Cause ??= $"node {node} {how}";
            Recover(r, _losses[r].Cause!);
        }

        if (_replyTo is not null && _flushRequested && _watchdog.AllFlushed)
        {
            Finish();
        }
    }

    /// <summary>
    /// Device <paramref name="r"/> was lost with its result of this pass in: it answers no flush, and if the backward is still to
    /// come it is re-created when the backward starts.
    /// </summary>
    private void LostAfterResult(int r, string cause)
    {
        _watchdog.Gone(r);
        if (_job.Settings.Backward is not null && _pass == RingPass.Forward)
        {
            _losses[r].Cause = cause;
            _lostBeforeBackward.Add(r);
            _log.Warning("Ring job {0}: {1}; device {2} is re-created when the backward starts", _job.JobId, cause, r);
        }
        else if (_pass == RingPass.Backward)
        {
            _losses[r].Cause = cause;
            if (_recomputes.Any(home => !_gradients.HasResult(home.Key) && home.Value.Any(request => request.To.Equals(_current[r]))))
            {
                Recover(r, $"{cause}; re-created for the contribution a re-created device needs"); // a re-created home waits for it
            }
            else
            {
                _lostAfterGradients.Add(r);
            }
        }
    }

    /// <summary>The messages only a device of this job sends.</summary>
    private static bool IsDeviceEvent(IRingMessage message) =>
        message is BlockComputed or ChunkCompleted or GradientsCompleted or BlockRefused or FaultObserved or FaultsFlushed or LinkFailed or DeviceKilled or SetupTaken;

    /// <summary>The incarnation a device's message came from (0 for a sender we did not spawn: its message is dropped before use).</summary>
    private int EpochOf(IActorRef sender) => _incarnations.GetValueOrDefault(sender).Epoch;

    /// <summary>A fault event's timestamps (its link's sender's clock) on ours.</summary>
    private FaultEvent OnOurClock(FaultEvent e)
    {
        if (!_incarnations.TryGetValue(Sender, out var from))
        {
            return e;
        }

        return e with
        {
            InjectedAt = _timelines.ToSupervisor(from.Device, from.Epoch, e.InjectedAt),
            DetectedAt = _timelines.ToSupervisor(from.Device, from.Epoch, e.DetectedAt),
            RecoveredAt = _timelines.ToSupervisor(from.Device, from.Epoch, e.RecoveredAt),
        };
    }

    /// <summary>Time since the job started, the watchdog's clock.</summary>
    private TimeSpan Elapsed => Stopwatch.GetElapsedTime(_startedAt);

    /// <summary>Whether the sender is the current incarnation of device <paramref name="device"/>.</summary>
    private bool IsCurrent(int device) => (uint)device < (uint)Devices && Sender.Equals(_current[device]);

    /// <summary>Every message of a device's current incarnation tells the watchdog it is alive.</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        if (_startedAt != 0 && message is IRingMessage or BlockChunk && Sender is { } sender && _devices.TryGetValue(sender, out var r) && sender.Equals(_current[r]))
        {
            _watchdog.Heard(r, Elapsed);
        }

        return base.AroundReceive(receive, message);
    }

    /// <summary>
    /// The watchdog's tick: what a device has been quiet about for too long (its setup, StartRing, its result, its flush answer)
    /// is sent again (<see cref="RingWatchdog"/>). Every repeat is idempotent at the device.
    /// </summary>
    private void ResendUnacknowledged()
    {
        var topology = new RingTopology(Devices);
        foreach (var (r, what) in _watchdog.Due(Elapsed))
        {
            var device = _current[r];
            IRingMessage message = what switch
            {
                // A setup names the neighbours' current incarnations, which may have been re-created since it was first sent.
                Resend.Setup => _setups[r] switch
                {
                    AssignChunk a => a with { Predecessor = _current[topology.Predecessor(r)], Successor = _current[topology.Successor(r)] },
                    RecoverChunk c => c with { Predecessor = _current[topology.Predecessor(r)], Successor = _current[topology.Successor(r)] },
                    RecoverBackward c => c with { Predecessor = _current[topology.Predecessor(r)], Successor = _current[topology.Successor(r)] },
                    var other => other,
                },
                Resend.Flush => new FlushFaults(_job.JobId),

                // In the backward its start is also the request for its gradients (a device already in the backward only answers it).
                _ when _pass == RingPass.Backward => (IRingMessage?)_backwardStarts[r] ?? _setups[r],
                _ => new StartRing(_job.JobId),
            };
            if (what == Resend.Result && _pass == RingPass.Backward && _recomputes.TryGetValue(r, out var requests))
            {
                // A re-created home waits for every other device's contribution: a lost request would stall it. A contributor
                // that already answered sends its contribution again, and the home sums one per contributor.
                foreach (var (to, request) in requests)
                {
                    _networkBytes += RingWire.Tell(Context.System, to, request, Self);
                }
            }

            if (what != Resend.Result)
            {
                _log.Warning("Ring job {0}: device {1} has not acknowledged its {2}; sent again", _job.JobId, r, what switch
                {
                    Resend.Setup => "setup",
                    Resend.Start => "StartRing",
                    _ => "FlushFaults",
                });
            }

            _networkBytes += RingWire.Tell(Context.System, device, message, Self);
            if (what == Resend.Setup && message is AssignChunk)
            {
                _networkBytes += RingWire.Tell(Context.System, device, new StartRing(_job.JobId), Self);
            }
        }
    }

    /// <summary>Logs a message this supervisor does not take from its sender, once per kind and sender, and drops it.</summary>
    private void Drop(IRingMessage message, string why)
    {
        var kind = message.GetType().Name;
        if (_drops.Line($"{kind} {Sender.Path}", $"Ring supervisor of job {_job.JobId} dropped {kind} from {Sender.Path}: {why}") is { } line)
        {
            _log.Warning("{0}", line);
        }
    }

    private void Fail(string reason, bool cancelled = false)
    {
        _log.Warning("Ring job {0} failed: {1}", _job.JobId, reason);
        Reply(new JobFailed(_job.JobId, reason, cancelled));
    }

    private void Reply(IRingMessage reply)
    {
        _replyTo?.Tell(reply);
        _replyTo = null;
        Timers.CancelAll();
        Become(Done);
        Context.Stop(Self);
    }

    private void ReportProgress() =>
        _progress?.Report(new RingProgress(
            _job.JobId, _collector.BlocksDone, Devices * Devices, _collector.Done, Devices, Stopwatch.GetElapsedTime(_startedAt, Now)));

    /// <summary>
    /// When a device was lost (Stopwatch timestamps, 0 when not known) and, for a node fault, which (crash-node:…, or the node
    /// lost), until its re-created incarnation reports.
    /// </summary>
    private sealed class DeviceLoss
    {
        public long KilledAt { get; set; }

        public long CrashedAt { get; set; }

        public string? Cause { get; set; }
    }

    /// <summary>The supervisor's own timer message: time to check what devices have not acknowledged.</summary>
    private sealed class WatchdogTick : INoSerializationVerificationNeeded
    {
        public static readonly WatchdogTick Instance = new();

        /// <summary>A quarter of resend-after, at least 10 ms: resends are late by at most that.</summary>
        public static TimeSpan Every(TimeSpan resendAfter) => TimeSpan.FromTicks(System.Math.Max(resendAfter.Ticks / 4, TimeSpan.FromMilliseconds(10).Ticks));
    }

    /// <summary>The supervisor's own timer message: the job's deadline has passed.</summary>
    private sealed class DeadlineExceeded : INoSerializationVerificationNeeded
    {
        public static readonly DeadlineExceeded Instance = new();
    }

    /// <summary>Stops a failing device and keeps its exception, which the Terminated that follows turns into the job's failure reason.</summary>
    private sealed class StopAndRecord(Dictionary<IActorRef, Exception> failures) : OneForOneStrategy(0, TimeSpan.Zero, _ => Directive.Stop)
    {
        protected override Directive Handle(IActorRef child, Exception exception)
        {
            failures[child] = exception;
            return Directive.Stop;
        }
    }
}
