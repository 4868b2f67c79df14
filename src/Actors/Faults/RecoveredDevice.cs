using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using RingActors.Math;
using static RingActors.Actors.Faults.FaultProtocol;
using static RingActors.Actors.RingProtocol;

namespace RingActors.Actors.Faults;

/// <summary>
/// A device re-created after a crash (incarnation <see cref="DeviceSetup.Epoch"/> ≥ 1). Its previous partial died with it, so
/// it recomputes its chunk over every key/value block, which the supervisor hands it (<see cref="RecoverChunk"/>); the other
/// devices' partials stay valid (the merge is order-independent) and are not touched. It takes its place in the ring: hand-offs
/// its predecessor incarnation had not sent yet go out to the successor against the credits that incarnation had left
/// (<see cref="LinkResume"/>), and frames from the predecessor are acknowledged and dropped (it has those blocks already);
/// frames addressed to an older incarnation are refused as stale.
/// </summary>
public sealed class RecoveredDevice : ReceiveActor, IWithStash
{
    private readonly DeviceSetup _setup;
    private readonly IActorRef _outLink;
    private readonly IActorRef _supervisor;
    private readonly LinkInbox _inbox;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Queue<int> _handOffs = new();
    private Serialization.WireInbox? _wireInbox;
    private IActorRef _worker = ActorRefs.Nobody;
    private RecoverChunk? _chunk;
    private PartialAttention? _partial;
    private int _credits;
    private int _nextStep;
    private bool _resumed;
    private bool _reported;
    private int _computed;
    private int _skipped;
    private BlockWork _work;
    private long _computeTicks;
    private long _queueTicks;
    private long _bytesSent;
    private int _handOffsSent;

    public RecoveredDevice(DeviceSetup setup, IActorRef outLink, IActorRef supervisor)
    {
        _setup = setup.Validate();
        _outLink = outLink;
        _supervisor = supervisor;
        _inbox = new LinkInbox(setup.Epoch);
        Receive<RecoverChunk>(m => m.JobId == _setup.JobId, Load);
        Receive<LinkFrame>(OnFrame);
        Receive<Serialization.BlockChunk>(OnChunk);
        ReceiveAny(_ => Stash.Stash());
    }

    public IStash Stash { get; set; } = null!;

    /// <summary>Incarnation <see cref="DeviceSetup.Epoch"/> of device <see cref="DeviceSetup.Device"/>, sending its hand-offs to <paramref name="outLink"/>.</summary>
    public static Props Props(DeviceSetup setup, IActorRef outLink, IActorRef supervisor) =>
        Akka.Actor.Props.Create(() => new RecoveredDevice(setup, outLink, supervisor));

    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Escalate);

    private int Devices => _setup.Devices;

    /// <summary>A piece of a large message from another node (its chunk and blocks, a frame): once whole, handled like any message from its sender.</summary>
    private void OnChunk(Serialization.BlockChunk chunk)
    {
        _wireInbox ??= new Serialization.WireInbox(Context.System);
        if (_wireInbox.Accept(chunk, Sender) is { } message)
        {
            Self.Tell(message, Sender);
        }
    }

    private void Load(RecoverChunk chunk)
    {
        if (chunk.Blocks.Count != Devices)
        {
            throw new ArgumentException($"device {_setup.Device} needs {Devices} blocks to recover, got {chunk.Blocks.Count}", nameof(chunk));
        }

        _chunk = chunk;
        var heads = _setup.Heads;
        _partial = new PartialAttention(heads.Batch, heads.Heads, chunk.QueryPositions.Length, heads.HeadDim);
        _worker = Context.ActorOf(ComputeWorker.Props(_setup), "compute");
        Become(Running);
        Stash.UnstashAll();
        if (Devices == 1)
        {
            _resumed = true;
        }

        Pump();
    }

    private void Running()
    {
        Receive<Serialization.BlockChunk>(OnChunk);
        Receive<LinkFrame>(OnFrame);
        Receive<LinkResume>(m =>
        {
            _resumed = true;
            _credits += m.Credits;
            var sent = m.StepsSent.ToHashSet();
            foreach (var step in Enumerable.Range(0, Devices - 1).Where(s => !sent.Contains(s)))
            {
                _handOffs.Enqueue(step);
            }

            Pump();
        });
        Receive<GrantCredit>(m =>
        {
            _credits += m.Credits;
            Pump();
        });
        Receive<ComputeOutcome>(outcome =>
        {
            _computeTicks += outcome.FinishedAt - outcome.StartedAt;
            _queueTicks += System.Math.Max(0, outcome.StartedAt - outcome.IssuedAt);
            if (outcome.Skipped)
            {
                _skipped++;
            }
            else
            {
                _computed++;
                _work += outcome.Work;
            }

            _supervisor.Tell(new BlockComputed(_setup.JobId, _setup.Device, outcome.Step, outcome.Origin, outcome.Skipped, outcome.Work.PairsComputed));
            Pump();
        });
        Receive<BlockRefused>(m => _log.Warning("Recovered device {0}: device {1} refused our block for step {2}: {3}", _setup.Device, m.Device, m.Step, m.Reason));
        Receive<IRingMessage>(m => _log.Warning("Recovered device {0} of job {1} ignored {2}", _setup.Device, _setup.JobId, m.GetType().Name));
    }

    private void OnFrame(LinkFrame frame)
    {
        switch (_inbox.Receive(frame.Epoch, frame.Sequence))
        {
            case FrameVerdict.Stale:
                _log.Info("Device {0} (epoch {1}) refused a stale frame of epoch {2}", _setup.Device, _inbox.Epoch, frame.Epoch);
                Sender.Tell(new LinkRefused(frame.JobId, frame.Link, frame.Epoch, frame.Sequence, $"stale: epoch {frame.Epoch}, device {_setup.Device} is at epoch {_inbox.Epoch}"));
                break;
            default:
                // The supervisor gave this incarnation every block: an arriving one is only acknowledged.
                Sender.Tell(new LinkAck(frame.JobId, frame.Link, frame.Epoch, frame.Sequence, Duplicate: true));
                break;
        }
    }

    private void Pump()
    {
        var chunk = _chunk!;
        while (_resumed && _credits > 0 && _handOffs.TryDequeue(out var step))
        {
            var block = chunk.Blocks[step];
            var origin = new RingTopology(Devices).OriginAt(_setup.Device, step);
            Serialization.RingWire.Tell(Context.System, _outLink, new AcceptBlock(_setup.JobId, origin, step + 1, _handOffsSent, Stopwatch.GetTimestamp(), block.Keys, block.Values, block.Positions), Self);
            _credits--;
            _handOffsSent++;
            _bytesSent += block.PayloadBytes;
        }

        var ticketOut = _computed + _skipped < _nextStep;
        if (!ticketOut && _nextStep < Devices)
        {
            var block = chunk.Blocks[_nextStep];
            var origin = new RingTopology(Devices).OriginAt(_setup.Device, _nextStep);
            _worker.Tell(new ComputeTicket(_setup.Device, _nextStep, origin, new QueryChunk(chunk.Queries, chunk.QueryPositions), block, _setup.Heads, _setup.Options, _partial!, Stopwatch.GetTimestamp()));
            _nextStep++;
        }

        if (!_reported && _resumed && _handOffs.Count == 0 && _computed + _skipped == Devices)
        {
            _reported = true;
            Serialization.RingWire.Tell(Context.System, _supervisor, new ChunkCompleted(_setup.JobId, _setup.Device, _partial!.Output, _partial.Lse, Stats()), Self);
        }
    }

    private DeviceStats Stats()
    {
        var chunk = _chunk!;
        var received = chunk.Blocks.Skip(1).Sum(b => b.PayloadBytes);
        var peak = ((long)chunk.Queries.Length * sizeof(float)) + _partial!.Bytes + chunk.Blocks.Sum(b => b.PayloadBytes);
        return new DeviceStats(
            _setup.Device, chunk.QueryPositions.Length, _computed, _skipped, _work.PairsComputed, 4.0 * _setup.Heads.HeadDim * _work.PairsComputed,
            Ticks(_computeTicks), Ticks(_queueTicks), TimeSpan.Zero, _bytesSent, received, _handOffsSent, Devices - 1, 0, peak, Devices,
            _inbox.Duplicates, _inbox.Stale, TimeSpan.Zero, TimeSpan.Zero);
    }

    private static TimeSpan Ticks(long stopwatchTicks) => TimeSpan.FromSeconds((double)stopwatchTicks / Stopwatch.Frequency);
}
