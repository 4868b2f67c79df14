using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using RingActors.Math;
using static RingActors.Actors.RingProtocol;

namespace RingActors.Actors;

/// <summary>
/// One device of the ring: holds a query chunk, receives key/value blocks from its predecessor, hands each one on to its
/// successor FIRST and THEN computes its queries' attention over it and merges (<see cref="BlockwiseAttention.Accumulate"/>).
/// After P blocks it reports its chunk's output and lse to the supervisor (<see cref="ChunkCompleted"/>).
/// <para>
/// Where compute runs: in a child <see cref="ComputeWorker"/> deployed on <c>ring-actors.compute-dispatcher</c>, while this
/// actor stays on the default dispatcher. Deploying the device itself on the compute dispatcher would be simpler but wrong
/// for the ring: while it computes, its mailbox is shut, so a block arriving mid-compute (and the credit that lets it go on)
/// would wait for the compute to end, and with more devices than compute threads a device could not even hand a block on
/// until another device's kernel finished. With the child, hand-offs and credits are handled the moment they arrive;
/// the partial result is owned by the worker while a ticket is out and by this actor otherwise (one ticket at a time).
/// </para>
/// The decisions (order, duplicates, credits, statistics) live in <see cref="DeviceState"/>; this actor only moves messages.
/// </summary>
public sealed partial class DeviceActor : ReceiveActor, IWithStash
{
    private readonly DeviceSetup _setup;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private DeviceState? _state;
    private IActorRef _predecessor = ActorRefs.Nobody;
    private IActorRef _successor = ActorRefs.Nobody;
    private IActorRef _supervisor = ActorRefs.Nobody;
    private IActorRef _worker = ActorRefs.Nobody;
    private bool _reported;
    private DeviceTimelineRecorder? _timelines;
    private Serialization.WireInbox? _wireInbox;
    private long _networkBytes;

    public DeviceActor(DeviceSetup setup)
    {
        _setup = setup.Validate();
        WaitingForChunk();
    }

    public IStash Stash { get; set; } = null!;

    private DeviceState State => _state ?? throw new InvalidOperationException($"device {_setup.Device} has no chunk yet");

    private DeviceTimelineRecorder Timelines => _timelines ?? throw new InvalidOperationException($"device {_setup.Device} has not started");

    /// <summary>A device of the job <paramref name="setup"/> describes; its compute child runs on <see cref="DeviceSetup.ComputeDispatcher"/>.</summary>
    public static Props Props(DeviceSetup setup) => Akka.Actor.Props.Create(() => new DeviceActor(setup));

    /// <summary>A failed compute fails the device; the ring supervisor decides what that means for the job.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Escalate);

    private static long Now => Stopwatch.GetTimestamp();

    private void WaitingForChunk()
    {
        Receive<Serialization.BlockChunk>(OnChunk);
        Receive<AssignChunk>(m => m.JobId == _setup.JobId, Load);
        Receive<AcceptBlock>(m => m.JobId != _setup.JobId, m => Refuse(m, $"block of job '{m.JobId}', this device runs job '{_setup.JobId}'"));
        Receive<IRingMessage>(m => m is AssignChunk or GrantCredit or StartRing && JobOf(m) != _setup.JobId, IgnoreForeign);
        ReceiveAny(_ => Stash.Stash());
    }

    private void Ready()
    {
        Receive<Serialization.BlockChunk>(OnChunk);
        Receive<StartRing>(m => m.JobId == _setup.JobId, _ =>
        {
            var now = Now;
            State.Start(now);
            _timelines = new DeviceTimelineRecorder(_setup, State.Credits);
            _timelines.Started(now);
            Become(Running);
            Stash.UnstashAll();
            Pump();
        });
        Receive<AcceptBlock>(m => m.JobId != _setup.JobId, m => Refuse(m, $"block of job '{m.JobId}', this device runs job '{_setup.JobId}'"));
        Receive<IRingMessage>(m => m is AssignChunk or GrantCredit or StartRing && JobOf(m) != _setup.JobId, IgnoreForeign);
        Receive<AssignChunk>(_ => _log.Warning("Device {0} of job {1} already has its chunk; a second one is ignored", _setup.Device, _setup.JobId));
        ReceiveAny(_ => Stash.Stash());
    }

    private void Running()
    {
        Receive<Serialization.BlockChunk>(OnChunk);
        Receive<AcceptBlock>(OnBlock);
        Receive<Faults.FaultProtocol.LinkFrame>(OnFrame);
        Receive<GrantCredit>(m => m.JobId == _setup.JobId, m =>
        {
            State.AddCredits(m.Credits);
            Timelines.Credited(m);
            Pump();
        });
        Receive<ComputeOutcome>(OnComputed);
        Receive<BlockRefused>(m => _log.Warning("Device {0} of job {1}: device {2} refused our block for step {3}: {4}", _setup.Device, _setup.JobId, m.Device, m.Step, m.Reason));
        Receive<IRingMessage>(IgnoreForeign);
    }

    private void Completed()
    {
        Receive<Serialization.BlockChunk>(OnChunk);
        Receive<AcceptBlock>(OnBlock);
        Receive<Faults.FaultProtocol.LinkFrame>(OnFrame);
        Receive<BlockRefused>(m => _log.Warning("Device {0} of job {1}: device {2} refused our block for step {3}: {4}", _setup.Device, _setup.JobId, m.Device, m.Step, m.Reason));
        Receive<IRingMessage>(IgnoreForeign);
    }

    private void Load(AssignChunk chunk)
    {
        _state = new DeviceState(_setup, new QueryChunk(chunk.Queries, chunk.QueryPositions), new KeyValueBlock(chunk.Keys, chunk.Values, chunk.KeyPositions));
        _predecessor = chunk.Predecessor;
        _successor = chunk.Successor;
        _supervisor = chunk.Supervisor;
        _worker = Context.ActorOf(ComputeWorker.Props(_setup), "compute");
        Become(Ready);
        Stash.UnstashAll();
    }

    private void OnBlock(AcceptBlock block)
    {
        var now = Now;
        var admission = State.Admit(block, now);
        switch (admission.Kind)
        {
            case AdmissionKind.Accepted:
                Timelines.Accepted(block, now);
                break;
            case AdmissionKind.Refused:
                Refuse(block, admission.Reason);
                break;
            case AdmissionKind.Duplicate:
                _log.Debug("Device {0} of job {1} dropped a duplicate: {2}", _setup.Device, _setup.JobId, admission.Reason);
                break;
        }

        Pump();
    }

    private void OnComputed(ComputeOutcome outcome)
    {
        State.CompleteCompute(outcome, Now);
        Timelines.Computed(outcome);
        Send(_supervisor, new BlockComputed(_setup.JobId, _setup.Device, outcome.Step, outcome.Origin, outcome.Skipped, outcome.Work.PairsComputed));
        Pump();
    }

    /// <summary>
    /// After every event: hand on what credits allow, return freed slots to the predecessor as credits, then start the next
    /// compute. Hand-offs come first and never wait for a compute; report once every step is merged and every hand-off sent.
    /// </summary>
    private void Pump()
    {
        var state = State;
        while (state.TryTakeHandOff(out var handOff))
        {
            Send(_successor, Timelines.Stamp(handOff));
        }

        if (state.TakeCreditGrant() is var credits and > 0)
        {
            Send(_predecessor, Timelines.Grant(credits));
        }

        if (state.TryStartCompute(Now, out var ticket))
        {
            if (_setup.Hooks is { StopInsteadOfThrowing: true } hooks && hooks.FailsAt(_setup.Device, ticket.Step))
            {
                _log.Warning("Device {0} of job {1} stops at step {2} (test hook)", _setup.Device, _setup.JobId, ticket.Step);
                _supervisor.Tell(new Faults.FaultProtocol.DeviceKilled(_setup.JobId, _setup.Device, ticket.Step, Now));
                Context.Stop(Self);
                return;
            }

            _worker.Tell(ticket);
        }

        if (state.IsComplete && !_reported)
        {
            _reported = true;
            var result = Timelines.Attach(state.Result());
            Send(_supervisor, result with { Stats = result.Stats with { NetworkBytesSent = _networkBytes } });
            Become(Completed);
        }
    }

    private void Refuse(AcceptBlock block, string reason)
    {
        _log.Warning("Device {0} of job {1} refused the block of device {2} for step {3}: {4}", _setup.Device, _setup.JobId, block.Origin, block.Step, reason);
        var refusal = new BlockRefused(block.JobId, _setup.Device, block.Origin, block.Step, reason);
        Sender.Tell(refusal);
        if (block.JobId == _setup.JobId && !_supervisor.IsNobody() && !_supervisor.Equals(Sender))
        {
            // A malformed block of our own job means this device can never finish: the supervisor must know at once.
            _supervisor.Tell(refusal);
        }
    }

    /// <summary>Sends through <see cref="Serialization.RingWire"/> (chunked when remote and large) and counts the bytes that crossed the network.</summary>
    private void Send(IActorRef target, IRingMessage message) =>
        _networkBytes += Serialization.RingWire.Tell(Context.System, target, message, Self);

    /// <summary>A piece of a large message from another node: once whole, it is handled like any message from its sender.</summary>
    private void OnChunk(Serialization.BlockChunk chunk)
    {
        _wireInbox ??= new Serialization.WireInbox(Context.System);
        if (_wireInbox.Accept(chunk, Sender) is { } message)
        {
            Self.Tell(message, Sender);
        }
    }

    private void IgnoreForeign(IRingMessage message) =>
        _log.Warning("Device {0} of job {1} ignored {2}", _setup.Device, _setup.JobId, message.GetType().Name);

    private static string? JobOf(IRingMessage message) => message switch
    {
        AssignChunk m => m.JobId,
        StartRing m => m.JobId,
        GrantCredit m => m.JobId,
        AcceptBlock m => m.JobId,
        _ => null,
    };
}
