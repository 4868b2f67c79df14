using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using RingActors.Math;
using static RingActors.Actors.RingProtocol;

namespace RingActors.Actors;

/// <summary>
/// Runs one ring job: spawns and watches the P devices, gives each its chunk by layout, starts the ring, collects the chunks'
/// results and reassembles the full output in the original token order. The job fails with a one-line reason — never hangs —
/// when a device throws or stops, refuses a block of this job, or the deadline passes. Replies once to the sender of
/// <see cref="RunJob"/> with <see cref="JobCompleted"/> or <see cref="JobFailed"/>, then stops (and its devices with it).
/// </summary>
public sealed partial class RingSupervisor : ReceiveActor, IWithTimers
{
    private const string DeadlineTimer = "deadline";

    private readonly RingJob _job;
    private readonly IProgress<RingProgress>? _progress;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<IActorRef, int> _devices = [];
    private readonly Dictionary<IActorRef, Exception> _failures = [];
    private readonly ChunkCompleted?[] _results;
    private readonly int[] _blocksDone;
    private SequenceLayout? _layout;
    private IActorRef? _replyTo;
    private long _startedAt;
    private long _ringStartedAt;
    private long _networkBytes;
    private Serialization.WireInbox? _inbox;

    public RingSupervisor(RingJob job, IProgress<RingProgress>? progress)
    {
        _job = job;
        _progress = progress;
        _results = new ChunkCompleted?[job.Settings.Devices];
        _blocksDone = new int[job.Settings.Devices];
        Idle();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>A supervisor for <paramref name="job"/>; send it <see cref="RunJob.Instance"/> to run it. Progress is reported from the actor's thread.</summary>
    public static Props Props(RingJob job, IProgress<RingProgress>? progress = null) =>
        Akka.Actor.Props.Create(() => new RingSupervisor(job, progress));

    /// <summary>A device that throws is stopped, and its exception kept so that the job's failure can name it.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new StopAndRecord(_failures);

    protected override void PostStop()
    {
        // Whatever stopped us (a crash of this actor included), the caller gets an answer.
        _replyTo?.Tell(new JobFailed(_job.JobId, "the ring supervisor stopped before the job finished"));
        _replyTo = null;
        StopNodeWatch();
        base.PostStop();
    }

    private static long Now => Stopwatch.GetTimestamp();

    private int Devices => _job.Settings.Devices;

    private void Idle()
    {
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
        Receive<CancelJob>(_ => Become(() => Receive<RunJob>(_ =>
        {
            _replyTo = Sender;
            Fail("cancelled", cancelled: true);
        })));
    }

    private void Running()
    {
        FaultHandlers();
        NodeHandlers();
        Receive<Serialization.BlockChunk>(chunk =>
        {
            _inbox ??= new Serialization.WireInbox(Context.System);
            if (_inbox.Accept(chunk, Sender) is { } message)
            {
                Self.Tell(message, Sender);
            }
        });
        Receive<BlockComputed>(m => m.JobId == _job.JobId, m =>
        {
            _blocksDone[m.Device]++;
            InjectNodeFaults(m.Device);
            ReportProgress();
        });
        Receive<ChunkCompleted>(m => m.JobId == _job.JobId, m =>
        {
            if (Serialization.RingWire.IsRemote(Sender) && Context.System.Serialization.FindSerializerFor(m) is Serialization.RingMessageSerializer serializer)
            {
                _networkBytes += serializer.FrameSize(m);
            }

            _results[m.Device] = m;
            NoteRecovered(m.Device);
            ReportProgress();
            if (_results.All(r => r is not null))
            {
                FinishAfterFaults();
            }
        });
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
        Receive<DeadlineExceeded>(_ => Fail(
            $"not finished after {_job.Deadline}: {_blocksDone.Sum()} of {Devices * Devices} blocks merged; "
            + $"devices still running: {string.Join(", ", Enumerable.Range(0, Devices).Where(r => _results[r] is null).Select(r => $"{r} ({_blocksDone[r]}/{Devices})"))}"
            + FaultsNote()));
        Receive<CancelJob>(_ => Fail("cancelled", cancelled: true));
        Receive<RunJob>(_ => Sender.Tell(new JobFailed(_job.JobId, "the job is already running")));
        Receive<IRingMessage>(m => _log.Warning("Ring supervisor of job {0} ignored {1}", _job.JobId, m));
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
        var shape = input.Shape;
        var layout = new SequenceLayout(_job.Settings.Layout, shape.SeqLen, Devices);
        _layout = layout;
        var heads = AttentionHeads.Of(shape);
        var options = _job.Settings.OptionsFor(_job.ThreadsPerDevice);
        var devices = new IActorRef[Devices];
        for (var r = 0; r < Devices; r++)
        {
            var setup = new DeviceSetup(_job.JobId, r, Devices, shape.SeqLen, heads, options, _job.System.MaxBlocksHeld, _job.System.ComputeDispatcher)
            {
                Hooks = HooksFor(r),
                VirtualTime = _job.Settings.VirtualTime,
                Phantom = input.IsPhantom,
                PatternSpec = _job.Settings.PatternSpec,
                PatternSeed = _job.Settings.PatternSeed,
            };
            var props = DeviceActor.Props(setup);
            if (_job.Settings.Placement is { } placement)
            {
                // Remote deployment: the device is created on that node, still our child (supervised and watched as a local one);
                // its Props' argument, the DeviceSetup, travels through RingMessageSerializer with the pattern as its spec.
                props = props.WithDeploy(new Deploy(new RemoteScope(placement[r])));
            }

            devices[r] = Context.ActorOf(props, $"device-{r}");
            Context.Watch(devices[r]);
            _devices[devices[r]] = r;
        }

        var topology = new RingTopology(Devices);
        var (predecessors, successors) = WireLinks(devices);
        for (var r = 0; r < Devices; r++)
        {
            var chunk = layout.QueryChunkOf(input, r);
            var block = layout.KeyValueBlockOf(input, r);
            _networkBytes += Serialization.RingWire.Tell(Context.System, devices[r], new AssignChunk(
                _job.JobId, chunk.Data, chunk.Positions, block.Keys, block.Values, block.Positions,
                predecessors[r], successors[r], Self), Self);
        }

        _ringStartedAt = Now;
        foreach (var device in devices)
        {
            _networkBytes += Serialization.RingWire.Tell(Context.System, device, new StartRing(_job.JobId), Self);
        }

        StartNodeWatch();
        if (_replyTo is null)
        {
            return; // a node fault named no node of the placement
        }

        Timers.StartSingleTimer(DeadlineTimer, DeadlineExceeded.Instance, _job.Deadline);
        ReportProgress();
    }

    private void Finish()
    {
        var ringEnded = Now;
        var shape = _job.Input.Shape;
        var layout = _layout!;
        var rows = shape.Batch * shape.Heads;
        var phantom = _job.Input.IsPhantom;
        var output = phantom ? [] : new float[shape.QueryLength];
        var lse = phantom ? [] : new float[rows * shape.SeqLen];
        var stats = new DeviceStats[Devices];
        for (var r = 0; r < Devices; r++)
        {
            var result = _results[r]!;
            if (!phantom)
            {
                layout.Scatter(result.Output, r, rows, shape.HeadDim, output);
                layout.Scatter(result.Lse, r, rows, 1, lse);
            }

            stats[r] = result.Stats;
        }

        var ring = new RingResult(
            _job.JobId, shape, _job.Settings, output, lse, stats,
            Stopwatch.GetElapsedTime(_startedAt, Now), Stopwatch.GetElapsedTime(_ringStartedAt, ringEnded))
        {
            Faults = _ledger?.Report(_ringStartedAt),
            VirtualTimeline = RingTimelines.Virtual(_results!, _job.Settings.VirtualTime),
            MeasuredTimeline = RingTimelines.Measured(_results!, _ringStartedAt),
            Placement = (_placement ?? _job.Settings.Placement)?.Select(a => a.ToString()).ToArray(),
            NetworkBytes = _networkBytes + stats.Sum(s => s.NetworkBytesSent),
        };
        Reply(new JobCompleted(ring));
    }

    private void OnDeviceStopped(IActorRef device)
    {
        if (!_devices.TryGetValue(device, out var r) || _results[r] is not null || TryRecover(device, r))
        {
            return;
        }

        var reason = _failures.TryGetValue(device, out var failure)
            ? failure is RingDeviceException ? failure.Message : $"device {r} failed: {failure.GetType().Name}: {failure.Message}"
            : $"device {r} stopped before finishing ({_blocksDone[r]} of {Devices} blocks merged)";
        Fail(reason);
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
            _job.JobId, _blocksDone.Sum(), Devices * Devices, _results.Count(r => r is not null), Devices, Stopwatch.GetElapsedTime(_startedAt, Now)));

    /// <summary>The supervisor's own timer message: the job's deadline has passed.</summary>
    private sealed class DeadlineExceeded
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
