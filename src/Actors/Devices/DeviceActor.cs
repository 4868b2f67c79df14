using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using RingActors.Actors.Faults;
using RingActors.Actors.Protocol;
using RingActors.Actors.Serialization;
using RingActors.Math;
using static RingActors.Actors.Protocol.FaultProtocol;
using static RingActors.Actors.Protocol.GradientProtocol;
using static RingActors.Actors.Protocol.LinkProtocol;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors.Devices;

/// <summary>
/// One device of the ring: holds a query chunk, receives key/value blocks from its predecessor, hands each one on to its
/// successor FIRST and THEN computes its queries' attention over it and merges (<see cref="BlockwiseAttention.Accumulate"/>).
/// After P blocks it reports its chunk's output and lse to the supervisor (<see cref="ChunkCompleted"/>).
/// <para>
/// The path of a block: <see cref="DeviceState.TryTakeHandOff"/> → this device's <see cref="OutboundLink"/> (numbered frame,
/// fault fate, acknowledgement timer) → <see cref="RingWire"/> (chunked when the successor is on another node and the frame is
/// large) → the successor's <see cref="LinkInbox"/> (stale and duplicate frames refused or dropped, the rest acknowledged)
/// → the successor's <see cref="DeviceState.Admit"/>. Credits go straight back from the successor. Nothing passes through the
/// supervisor: on a cluster a block crosses the network once, from node to node.
/// </para>
/// <para>
/// Where compute runs: in a child <see cref="ComputeWorker"/> deployed on <c>ring-actors.compute-dispatcher</c>, while this
/// actor stays on the default dispatcher. Deploying the device itself on the compute dispatcher would be simpler but wrong
/// for the ring: while it computes, its mailbox is shut, so a block arriving mid-compute (and the credit that lets it go on)
/// would wait for the compute to end, and with more devices than compute threads a device could not even hand a block on
/// until another device's kernel finished. With the child, hand-offs and credits are handled the moment they arrive;
/// the partial result is owned by the worker while a ticket is out and by this actor otherwise (one ticket at a time).
/// </para>
/// A device re-created after a crash is this actor too, started by <see cref="RecoverChunk"/> instead of
/// <see cref="AssignChunk"/> (see <see cref="DeviceState.Recovering"/>), or by <see cref="RecoverBackward"/> during the backward.
/// <para>
/// The backward pass (<see cref="StartBackward"/>, once every forward result is in) is the same actor running the ring a
/// second time: a fresh <see cref="DeviceState"/> in backward mode over the same links (every message names its
/// <see cref="RingPass"/>; one of the backward that arrives before this device starts it is stashed), whose steps add to the
/// chunk's dQ and produce each block's dK/dV contribution. A contribution goes straight to the block's home device
/// (<see cref="ContributionOutbox"/>), which sums one per contributor (<see cref="GradientHome"/>).
/// </para> The decisions (order, duplicates, credits,
/// retransmissions, statistics) live in <see cref="DeviceState"/>, <see cref="OutboundLink"/> and <see cref="LinkInbox"/>;
/// this actor only moves messages.
/// </summary>
public sealed class DeviceActor : ReceiveActor, IWithStash, IWithTimers
{
    private const string PartitionTimer = "partition";
    private const string ProbeTimer = "probe";

    private readonly DeviceSetup _setup;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly LinkInbox _inbox;
    private DeviceState? _state;
    private OutboundLink? _link;
    private readonly DeviceSenders _senders = new();
    private readonly LogOnce _drops = new();
    private readonly DeviceAnswers _answers;
    private readonly FirstLosses _losses;
    private IActorRef _worker = ActorRefs.Nobody;
    private IActorRef? _flushRequester;
    private string? _flushJob;
    private bool _reported;
    private DeviceTimelineRecorder? _timelines;
    private WireInbox? _wireInbox;
    private long _bytesToSuccessor;
    private long _bytesToPredecessor;
    private long _bytesToSupervisor;
    private long _deliveries;
    private int _handOffsAtProbe = -1;
    private RingPass _pass = RingPass.Forward;
    private QueryChunk? _queries;
    private KeyValueBlock? _ownBlock;
    private GradientHome? _home;
    private ContributionOutbox? _outbox;
    private IActorRef[] _homes = [];
    private readonly Queue<RecomputeContribution> _recomputes = new();
    private bool _recomputeOut;
    private bool _gradientsReported;
    private int _recomputed;
    private long _bytesToPeers;
    private long _contributionDeliveries;

    public DeviceActor(DeviceSetup setup)
    {
        _setup = setup.Validate();
        _inbox = new LinkInbox(setup.Epoch);
        _answers = new DeviceAnswers(setup.JobId, setup.Device, 4 * Context.System.Settings.Config.GetTimeSpan("ring-actors.resend-after", TimeSpan.FromSeconds(1)));
        _losses = new FirstLosses(setup.Hooks.Loses);
        WaitingForChunk();
    }

    public IStash Stash { get; set; } = null!;

    public ITimerScheduler Timers { get; set; } = null!;

    private DeviceState State => _state ?? throw new InvalidOperationException($"device {_setup.Device} has no chunk yet");

    private DeviceTimelineRecorder Timelines => _timelines ?? throw new InvalidOperationException($"device {_setup.Device} has not started");

    private OutboundLink Link => _link ?? throw new InvalidOperationException($"device {_setup.Device} has no link yet");

    /// <summary>A device of the job <paramref name="setup"/> describes; its compute child runs on <see cref="DeviceSetup.ComputeDispatcher"/>.</summary>
    public static Props Props(DeviceSetup setup) => Akka.Actor.Props.Create(() => new DeviceActor(setup));

    /// <summary>A failed compute fails the device; the ring supervisor decides what that means for the job.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Escalate);

    private static long Now => Stopwatch.GetTimestamp();

    /// <summary>A monotonic clock for <see cref="DeviceAnswers"/>.</summary>
    private static TimeSpan AnswerClock => Stopwatch.GetElapsedTime(0);

    private void WaitingForChunk()
    {
        Receive<BlockChunk>(OnChunk);
        Receive<WireInbox.SweepDue>(_ => SweepWire());
        Receive<AssignChunk>(m => m.JobId == _setup.JobId, m =>
        {
            if (DeviceSenders.TakesChunk(Sender, m.Supervisor, Context.Parent.Path))
            {
                if (!_losses.Lose(LostMessages.Setup))
                {
                    Load(m);
                }
            }
            else
            {
                Drop(m, "a chunk is taken only from the supervisor it names, this device's parent");
            }
        });
        Receive<RecoverChunk>(m => m.JobId == _setup.JobId, m =>
        {
            if (DeviceSenders.TakesChunk(Sender, m.Supervisor, Context.Parent.Path))
            {
                Recover(m);
            }
            else
            {
                Drop(m, "a chunk is taken only from the supervisor it names, this device's parent");
            }
        });
        Receive<RecoverBackward>(m => m.JobId == _setup.JobId, m =>
        {
            if (DeviceSenders.TakesChunk(Sender, m.Supervisor, Context.Parent.Path))
            {
                RecoverBackwardPass(m);
            }
            else
            {
                Drop(m, "a chunk is taken only from the supervisor it names, this device's parent");
            }
        });
        Receive<AcceptBlock>(m => m.JobId != _setup.JobId, m => Refuse(m, $"block of job '{m.JobId}', this device runs job '{_setup.JobId}'"));
        Receive<IRingMessage>(m => JobOf(m) is { } job && job != _setup.JobId, IgnoreForeign);
        ReceiveAny(_ => Stash.Stash());
    }

    private void Ready()
    {
        Receive<BlockChunk>(OnChunk);
        Receive<WireInbox.SweepDue>(_ => SweepWire());
        Receive<StartRing>(m => m.JobId == _setup.JobId, m =>
        {
            if (!FromSupervisor(m) || _losses.Lose(LostMessages.Start))
            {
                return;
            }

            var now = Now;
            State.Start(now);
            Begin(now);
        });
        Receive<AcceptBlock>(m => m.JobId != _setup.JobId, m => Refuse(m, $"block of job '{m.JobId}', this device runs job '{_setup.JobId}'"));
        Receive<IRingMessage>(m => JobOf(m) is { } job && job != _setup.JobId, IgnoreForeign);
        Receive<AssignChunk>(Repeated);
        ReceiveAny(_ => Stash.Stash());
    }

    /// <summary>Running and, once complete, still answering the link (acknowledgements, retransmissions) until the job ends.</summary>
    private void Running()
    {
        Receive<BlockChunk>(OnChunk);
        Receive<WireInbox.SweepDue>(_ => SweepWire());
        Receive<StartRing>(m => m.JobId == _setup.JobId, Repeated);
        Receive<AssignChunk>(m => m.JobId == _setup.JobId, Repeated);
        Receive<RecoverChunk>(m => m.JobId == _setup.JobId, Repeated);
        Receive<RecoverBackward>(m => m.JobId == _setup.JobId, m =>
        {
            if (FromSupervisor(m))
            {
                RepeatedBackward();
            }
        });

        // The backward's messages may reach a device still finishing its forward (or waiting for its StartBackward): they wait.
        Receive<IRingMessage>(m => _pass == RingPass.Forward && IsBackwardMessage(m), _ => Stash.Stash());
        Receive<StartBackward>(m => m.JobId == _setup.JobId, m =>
        {
            if (FromSupervisor(m) && !_losses.Lose(LostMessages.BackwardStart))
            {
                StartBackwardPass(m);
            }
        });
        Receive<Contribution>(m => m.JobId == _setup.JobId, OnContribution);
        Receive<ContributionAck>(m => m.JobId == _setup.JobId, m =>
        {
            if (_senders.IsPeer(Sender) || Drop(m, "only a device of the job acknowledges contributions"))
            {
                _outbox?.OnAck(m);
                Pump();
            }
        });
        Receive<RecomputeContribution>(m => m.JobId == _setup.JobId, m =>
        {
            if (FromSupervisor(m))
            {
                OnRecompute(m);
            }
        });
        Receive<ContributionTimeout>(m =>
        {
            _outbox?.OnAckTimeout(m.Sequence);
            Pump();
        });
        Receive<DeliverContribution>(m => TransmitContribution(m.Contribution));
        // Late messages of the forward once the backward runs (a retransmitted frame's second copy, a probe's answer).
        Receive<GrantCredit>(m => m.Pass != _pass, m => _log.Debug("Device {0}: a credit of the {1} pass dropped during the {2}", _setup.Device, m.Pass, _pass));
        Receive<LinkHello>(m => m.Pass != _pass, m => _log.Debug("Device {0}: a hello of the {1} pass dropped during the {2}", _setup.Device, m.Pass, _pass));
        Receive<LinkResume>(m => m.Pass != _pass, m => _log.Debug("Device {0}: a resume of the {1} pass dropped during the {2}", _setup.Device, m.Pass, _pass));
        // A bare block (a job without a fault plan) comes from the predecessor; one of another job is refused to whoever sent it.
        Receive<AcceptBlock>(m =>
        {
            if (m.JobId != _setup.JobId || FromPredecessor(m))
            {
                OnBlock(m);
            }
        });
        Receive<LinkFrame>(m => m.JobId == _setup.JobId, m =>
        {
            if (FromPredecessor(m))
            {
                OnFrame(m);
            }
        });
        Receive<LinkAck>(m => m.JobId == _setup.JobId, m =>
        {
            if (FromSuccessor(m))
            {
                Link.OnAck(m);
                AnswerFlushWhenIdle();
            }
        });
        Receive<LinkRefused>(m => m.JobId == _setup.JobId, m =>
        {
            if (FromSuccessor(m))
            {
                _log.Debug("Device {0}: frame {1} refused by device {2}: {3}", _setup.Device, m.Sequence, _setup.Topology.Successor(_setup.Device), m.Reason);
            }
        });
        Receive<LinkHello>(m => m.JobId == _setup.JobId, OnHello);
        Receive<LinkResume>(m => m.JobId == _setup.JobId, OnResume);
        Receive<GrantCredit>(m => m.JobId == _setup.JobId, m =>
        {
            if (FromSuccessor(m) && Link.AdmitCredit(m))
            {
                OnCredit(m);
            }
        });
        Receive<PartitionLink>(m => m.JobId == _setup.JobId, m =>
        {
            if (FromSupervisor(m))
            {
                Link.Partition(m);
            }
        });
        Receive<PartitionHealed>(_ =>
        {
            Link.Heal();
            Pump();
        });
        Receive<AckTimeout>(m =>
        {
            Link.OnAckTimeout(m.Sequence);
            AnswerFlushWhenIdle();
        });
        Receive<Deliver>(m => Transmit(m.Frame));
        Receive<ReleasedCredit>(m => OnCredit(m.Grant));
        Receive<ProbeSuccessor>(_ => Probe());
        Receive<ComputeOutcome>(m =>
        {
            // Only this device's own compute child holds a ticket; an outcome from anyone else would corrupt the result.
            if (Sender.Equals(_worker))
            {
                OnComputed(m);
            }
        });
        Receive<FlushFaults>(m => m.JobId == _setup.JobId, m =>
        {
            if (!FromSupervisor(m) || _losses.Lose(LostMessages.Flush))
            {
                return;
            }

            _flushRequester = Sender;
            _flushJob = m.JobId;
            AnswerFlushWhenIdle();
        });
        Receive<BlockRefused>(m =>
        {
            if (FromSuccessor(m))
            {
                _log.Warning("Device {0} of job {1}: device {2} refused our block for step {3}: {4}", _setup.Device, _setup.JobId, m.Device, m.Step, m.Reason);
            }
        });
        Receive<IRingMessage>(IgnoreForeign);
    }

    /// <summary>The supervisor's watchdog repeated a setup or StartRing we already took: tell it where we stand (and our result again).</summary>
    private void Repeated(IRingMessage message)
    {
        if (FromSupervisor(message))
        {
            foreach (var answer in _answers.Repeat(AnswerClock))
            {
                Send(_senders.Supervisor, answer);
            }
        }
    }

    /// <summary>The watchdog repeated the backward's start or setup: where we stand, and our gradients again once reported.</summary>
    private void RepeatedBackward()
    {
        foreach (var answer in _answers.RepeatBackward(AnswerClock))
        {
            Send(_senders.Supervisor, answer);
        }
    }

    private bool FromSupervisor(IRingMessage message) =>
        _senders.IsSupervisor(Sender) || Drop(message, "only the job's supervisor sends this");

    private bool FromPredecessor(IRingMessage message) =>
        _senders.IsPredecessor(Sender) || Drop(message, "only the predecessor sends this");

    private bool FromSuccessor(IRingMessage message) =>
        _senders.IsSuccessor(Sender) || Drop(message, "only the successor sends this");

    /// <summary>Logs a message from the wrong sender once per kind and sender, and drops it; false, for the guards above.</summary>
    private bool Drop(IRingMessage message, string why)
    {
        var kind = message.GetType().Name;
        if (_drops.Line($"{kind} {Sender.Path}", $"Device {_setup.Device} of job {_setup.JobId} dropped {kind} from {Sender.Path}: {why}") is { } line)
        {
            _log.Warning("{0}", line);
        }

        return false;
    }

    private void Load(AssignChunk chunk)
    {
        _queries = new QueryChunk(chunk.Queries, chunk.QueryPositions);
        _ownBlock = new KeyValueBlock(chunk.Keys, chunk.Values, chunk.KeyPositions);
        _state = new DeviceState(_setup, _queries, _ownBlock);
        Wire(chunk.Predecessor, chunk.Successor, chunk.Supervisor);
        Acknowledge(_answers.Took());
        Become(Ready);
        Stash.UnstashAll();
    }

    /// <summary>
    /// The re-created device: every block from the supervisor, running at once. It announces itself to both neighbours: to the
    /// successor as the link's new sender (which answers with what it still needs), to the predecessor as the link's new
    /// receiver that needs nothing more.
    /// </summary>
    private void Recover(RecoverChunk chunk)
    {
        var now = Now;
        _queries = new QueryChunk(chunk.Queries, chunk.QueryPositions);
        _ownBlock = chunk.Blocks[0];
        _state = DeviceState.Recovering(_setup, _queries, chunk.Blocks, now);
        Wire(chunk.Predecessor, chunk.Successor, chunk.Supervisor);
        if (_setup.Devices > 1)
        {
            _bytesToSuccessor += RingWire.Tell(Context.System, _senders.Successor, new LinkHello(_setup.JobId, _setup.Device, _setup.Epoch), Self);
            var (credits, held) = State.ResumeForPredecessor();
            _bytesToPredecessor += RingWire.Tell(Context.System, _senders.Predecessor, new LinkResume(_setup.JobId, _setup.Topology.Predecessor(_setup.Device), _setup.Epoch, credits, held), Self);
        }

        Begin(now);
    }

    /// <summary>
    /// The forward is complete on every device: this device's output and lse are the global ones for its rows, so the backward
    /// can recompute every tile's probabilities exactly. The same ring starts again in backward mode, own block first.
    /// </summary>
    private void StartBackwardPass(StartBackward start)
    {
        if (_pass == RingPass.Backward)
        {
            RepeatedBackward();
            return;
        }

        var forward = State.Result();
        var heads = _setup.Heads;
        var rows = BackwardRows.Create(_queries!, start.OutputGradient, new PartialAttention(heads.Batch, heads.Heads, _queries!.Tokens, heads.HeadDim, forward.Output, forward.Lse));
        var now = Now;
        EnterBackward(DeviceState.Backward(_setup, rows, _ownBlock!), start.Homes, start.HomeEpochs);
        State.Start(now);
        _timelines = new DeviceTimelineRecorder(_setup, State.Credits);
        _timelines.Started(now);
        Stash.UnstashAll();
        Pump();
    }

    /// <summary>
    /// Re-created during the backward: its dQ and every contribution of its chunk are recomputed over all P blocks from the
    /// supervisor, its own block's sums start empty (every other device is asked by the supervisor to contribute again), and the
    /// link is resumed as in the forward's recovery.
    /// </summary>
    private void RecoverBackwardPass(RecoverBackward chunk)
    {
        var now = Now;
        var heads = _setup.Heads;
        _queries = new QueryChunk(chunk.Queries, chunk.QueryPositions);
        _ownBlock = chunk.Blocks[0];
        _reported = true; // its forward result is the supervisor's already
        var rows = BackwardRows.Create(_queries, chunk.OutputGradient, new PartialAttention(heads.Batch, heads.Heads, _queries.Tokens, heads.HeadDim, chunk.Output, chunk.Lse));
        Wire(chunk.Predecessor, chunk.Successor, chunk.Supervisor);
        EnterBackward(DeviceState.RecoveringBackward(_setup, rows, chunk.Blocks, now), chunk.Homes, chunk.HomeEpochs);
        if (_setup.Devices > 1)
        {
            _bytesToSuccessor += RingWire.Tell(Context.System, _senders.Successor, new LinkHello(_setup.JobId, _setup.Device, _setup.Epoch, RingPass.Backward), Self);
            var (credits, held) = State.ResumeForPredecessor();
            _bytesToPredecessor += RingWire.Tell(Context.System, _senders.Predecessor, new LinkResume(_setup.JobId, _setup.Topology.Predecessor(_setup.Device), _setup.Epoch, credits, held, RingPass.Backward), Self);
        }

        Begin(now);
    }

    private void EnterBackward(DeviceState state, IReadOnlyList<IActorRef> homes, IReadOnlyList<int> homeEpochs)
    {
        _pass = RingPass.Backward;
        _state = state;
        _handOffsAtProbe = -1;
        _homes = [.. homes];
        _home = new GradientHome(_setup.Device, _setup.Devices, _setup.Epoch, _ownBlock!.Keys.Length);
        _outbox = new ContributionOutbox(_setup.JobId, _setup.Device, _setup.Devices, _setup.Epoch, _setup.Faults, _setup.Trial, homeEpochs, new ContributionEffects(this));
    }

    /// <summary>A contribution to this device's own block: summed once per contributor, acknowledged whatever the verdict but a refusal.</summary>
    private void OnContribution(Contribution contribution)
    {
        if (!_senders.IsPeer(Sender))
        {
            Drop(contribution, "only a device of the job sends contributions");
            return;
        }

        var (verdict, reason) = _home!.Add(contribution.Contributor, contribution.Home, contribution.HomeEpoch, contribution.Keys, contribution.Values);
        if (verdict == ContributionVerdict.Refused)
        {
            _log.Debug("Device {0} of job {1} refused a contribution of device {2}: {3}", _setup.Device, _setup.JobId, contribution.Contributor, reason);
            return;
        }

        _bytesToPeers += RingWire.Tell(Context.System, Sender, new ContributionAck(_setup.JobId, _setup.Device, contribution.ContributorEpoch, contribution.Sequence, verdict == ContributionVerdict.Duplicate), Self);
        Pump();
    }

    /// <summary>A home was re-created: its lost incarnation's pending contributions are dropped, a fresh one computed and sent to the new one.</summary>
    private void OnRecompute(RecomputeContribution recompute)
    {
        if ((uint)recompute.Home >= (uint)_setup.Devices || recompute.Home == _setup.Device)
        {
            return;
        }

        _homes[recompute.Home] = recompute.HomeRef;
        _outbox!.HomeReplaced(recompute.Home, recompute.HomeEpoch);
        _recomputes.Enqueue(recompute);
        Pump();
    }

    /// <summary>Sends a computed contribution to its block's home: summed here for the own block, else through the outbox.</summary>
    private void Contribute(int home, KeyValueGradients gradients)
    {
        if (home == _setup.Device)
        {
            _home!.Add(home, home, _setup.Epoch, gradients.Keys, gradients.Values);
        }
        else
        {
            _outbox!.Send(home, gradients.Keys, gradients.Values);
        }
    }

    private void TransmitContribution(Contribution contribution)
    {
        // Addressed to the incarnation the outbox numbered it for: after a home's re-creation the old one's copies are not sent.
        if (contribution.HomeEpoch == _outbox!.HomeEpoch(contribution.Home))
        {
            _bytesToPeers += RingWire.Tell(Context.System, _homes[contribution.Home], contribution, Self);
        }
    }

    private void Wire(IActorRef predecessor, IActorRef successor, IActorRef supervisor)
    {
        _senders.Wire(predecessor, successor, supervisor);
        _link = new OutboundLink(_setup.JobId, _setup.Device, _setup.Devices, _setup.Epoch, _setup.Faults, _setup.Trial, new LinkEffects(this));
        _worker = Context.ActorOf(ComputeWorker.Props(_setup), "compute");
    }

    private void Begin(long now)
    {
        _timelines = new DeviceTimelineRecorder(_setup, State.Credits);
        _timelines.Started(now);
        Acknowledge(_answers.Began(now));
        Become(Running);
        Stash.UnstashAll();
        Pump();
    }

    private void OnFrame(LinkFrame frame)
    {
        var verdict = _inbox.Receive(frame.ReceiverEpoch, frame.SenderEpoch, frame.Sequence);
        if (verdict == FrameVerdict.Stale)
        {
            Sender.Tell(new LinkRefused(frame.JobId, frame.Link, frame.SenderEpoch, frame.Sequence,
                $"stale: frame of sender epoch {frame.SenderEpoch} for receiver epoch {frame.ReceiverEpoch}; device {_setup.Device} is at epoch {_setup.Epoch} and hears sender epoch {_inbox.SenderEpoch}"));
            return;
        }

        // Acknowledge first: the link stops retransmitting whatever the block's admission says.
        _bytesToPredecessor += RingWire.Tell(Context.System, Sender, new LinkAck(frame.JobId, frame.Link, frame.SenderEpoch, frame.Sequence, verdict == FrameVerdict.Duplicate), Self);
        if (verdict == FrameVerdict.New && frame.Block.Pass != _pass)
        {
            _log.Debug("Device {0}: a frame of the {1} pass dropped during the {2}", _setup.Device, frame.Block.Pass, _pass);
        }
        else if (verdict == FrameVerdict.New)
        {
            OnBlock(frame.Block);
        }
    }

    /// <summary>
    /// A re-created predecessor sends on our incoming link from now on, or the current one asks where we stand (its credit or
    /// our resume may have been lost): tell it what we hold and what it may send.
    /// </summary>
    private void OnHello(LinkHello hello)
    {
        if (!_senders.MayBePredecessor(Sender, hello.SenderEpoch > _inbox.SenderEpoch))
        {
            Drop(hello, "a hello comes from the predecessor, or from a newer incarnation the job's supervisor created");
            return;
        }

        if (hello.SenderEpoch < _inbox.SenderEpoch)
        {
            return; // an older incarnation's announcement, arriving late
        }

        _inbox.SenderIs(hello.SenderEpoch);
        _senders.PredecessorIs(Sender);
        var (credits, held) = State.ResumeForPredecessor();
        _bytesToPredecessor += RingWire.Tell(Context.System, Sender, new LinkResume(_setup.JobId, hello.Link, _setup.Epoch, credits, held, _pass), Self);
    }

    /// <summary>The successor was re-created, or answers our own re-creation: re-aim the link and the hand-offs at what it needs.</summary>
    private void OnResume(LinkResume resume)
    {
        if (!_senders.MayBeSuccessor(Sender, resume.ReceiverEpoch > Link.ReceiverEpoch))
        {
            Drop(resume, "a resume comes from the successor, or from a newer incarnation the job's supervisor created");
            return;
        }

        // The answer to our probe (same receiver incarnation, nothing awaited) counts the credits it gave and has not seen
        // used; it is exact only if we sent nothing since the probe (every earlier frame was acknowledged, so admitted).
        // Otherwise it is dropped and the probe asks again.
        var probeAnswer = resume.ReceiverEpoch == Link.ReceiverEpoch && !State.AwaitsResume;
        if (probeAnswer && State.HandOffsSent != _handOffsAtProbe)
        {
            return;
        }

        if (!Link.OnResume(resume))
        {
            return;
        }

        _senders.SuccessorIs(Sender);
        State.Resume(resume.Credits, resume.StepsHeld.ToList());
        Pump();
    }

    private void OnCredit(GrantCredit grant)
    {
        State.AddCredits(grant.Credits);
        Timelines.Credited(grant);
        Pump();
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
        if (outcome.ContributionOnly)
        {
            _recomputeOut = false;
            _recomputed++;
            Contribute(outcome.Origin, outcome.Gradients!);
            Pump();
            return;
        }

        State.CompleteCompute(outcome, Now);
        Timelines.Computed(outcome);
        Send(_senders.Supervisor, new BlockComputed(_setup.JobId, _setup.Device, outcome.Step, outcome.Origin, outcome.Skipped, outcome.Work.PairsComputed, _pass));
        if (_pass == RingPass.Backward)
        {
            Contribute(outcome.Origin, outcome.Gradients!);
        }

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
            Link.Send(Timelines.Stamp(handOff));
        }

        if (state.TakeCreditGrant() is var credits and > 0)
        {
            _bytesToPredecessor += RingWire.Tell(Context.System, _senders.Predecessor, Timelines.Grant(credits) with { Pass = _pass }, Self);
        }

        if (!_recomputeOut && state.TryStartCompute(Now, out var ticket))
        {
            // Fault steps count on through the backward: its step s is the job's step P + s.
            var jobStep = ticket.Step + (_pass == RingPass.Backward ? _setup.Devices : 0);
            if (_setup.Hooks is { StopInsteadOfThrowing: true } hooks && hooks.FailsAt(_setup.Device, jobStep))
            {
                _log.Warning("Device {0} of job {1} stops at step {2} (kill-device)", _setup.Device, _setup.JobId, jobStep);
                // What it did of the forward goes with it: the job's timeline shows it on this device's track before its successor's.
                Send(_senders.Supervisor, new DeviceKilled(_setup.JobId, _setup.Device, jobStep, Now, _pass == RingPass.Forward ? Timelines.MeasuredSoFar() : null));
                Context.Stop(Self);
                return;
            }

            _worker.Tell(ticket);
        }
        else if (!_recomputeOut && !state.IsComputing && _recomputes.TryDequeue(out var recompute))
        {
            // One ticket at a time: a contribution for a re-created home waits for the ring's compute, and the ring's for it.
            _recomputeOut = true;
            var rows = state.Rows;
            _worker.Tell(new ComputeTicket(_setup.Device, -1, recompute.Home, rows.Queries, recompute.Block, _setup.Heads, _setup.Options, null, Now)
            {
                Precision = _setup.PartialPrecision,
                Rows = rows,
                QueryGradient = new float[rows.Queries.Data.Length],
                ContributionOnly = true,
                WorkLeft = state.WorkLeft,
            });
        }

        if (_setup.Faults is { } plan && state.WaitsForSuccessor && Link.Unacknowledged == 0 && !Link.IsCut && !Timers.IsTimerActive(ProbeTimer))
        {
            // Credits and resumes are not retransmitted; a lost one would stall the ring until its deadline. Ask again.
            Timers.StartSingleTimer(ProbeTimer, ProbeSuccessor.Instance, plan.Timeout);
        }

        if (_pass == RingPass.Backward)
        {
            ReportGradientsWhenDone(state);
        }
        else if (state.IsComplete && !_reported)
        {
            _reported = true;
            var result = Timelines.Attach(state.Result());
            var stats = result.Stats with
            {
                NetworkBytesSent = _bytesToSuccessor + _bytesToPredecessor + _bytesToSupervisor,
                NetworkBytesToSuccessor = _bytesToSuccessor,
                NetworkBytesToPredecessor = _bytesToPredecessor,
                NetworkBytesToSupervisor = _bytesToSupervisor,
                DuplicatesDropped = result.Stats.DuplicatesDropped + _inbox.Duplicates,
                StaleFramesRefused = _inbox.Stale,
                Retransmissions = Link.Retransmissions,
                Epoch = _setup.Epoch,
            };
            var report = _answers.Reported(result with { Stats = stats }, AnswerClock);
            if (!_losses.Lose(LostMessages.Result))
            {
                Send(_senders.Supervisor, report);
            }
        }
    }

    /// <summary>
    /// The backward is done on this device once its ring is (every step computed, every hand-off sent), its own block has all
    /// P contributions, and every contribution it sent was acknowledged: then dQ, dK and dV go to the supervisor, once.
    /// </summary>
    private void ReportGradientsWhenDone(DeviceState state)
    {
        if (_gradientsReported || !state.IsComplete || !_home!.IsComplete || _outbox!.Unacknowledged > 0 || _recomputeOut || _recomputes.Count > 0)
        {
            return;
        }

        _gradientsReported = true;
        var stats = state.Stats() with
        {
            NetworkBytesSent = _bytesToSuccessor + _bytesToPredecessor + _bytesToSupervisor + _bytesToPeers,
            NetworkBytesToSuccessor = _bytesToSuccessor,
            NetworkBytesToPredecessor = _bytesToPredecessor,
            NetworkBytesToSupervisor = _bytesToSupervisor,
            DuplicatesDropped = state.Stats().DuplicatesDropped + _inbox.Duplicates,
            StaleFramesRefused = _inbox.Stale,
            Retransmissions = Link.Retransmissions + _outbox.Retransmissions,
            Epoch = _setup.Epoch,
            ContributionsSent = _outbox.Sent,
            ContributionsSummed = _home.Summed,
            ContributionDuplicates = _home.Duplicates,
            ContributionsRecomputed = _recomputed,
        };
        var timeline = Timelines.Attach(new ChunkCompleted(_setup.JobId, _setup.Device, [], [], stats)).MeasuredTimeline;
        var report = _answers.ReportedGradients(new GradientsCompleted(_setup.JobId, _setup.Device, state.QueryGradient, _home.Gradients.Keys, _home.Gradients.Values, stats, timeline), AnswerClock);
        if (!_losses.Lose(LostMessages.BackwardResult))
        {
            Send(_senders.Supervisor, report);
        }
    }

    /// <summary>
    /// Still waiting on the successor with every frame acknowledged (so its count of the credits it gave is exact): ask it
    /// where we stand; its <see cref="LinkResume"/> restores a credit or resume that was lost.
    /// </summary>
    private void Probe()
    {
        if (State.WaitsForSuccessor && Link.Unacknowledged == 0 && !Link.IsCut)
        {
            _bytesToSuccessor += RingWire.Tell(Context.System, _senders.Successor, new LinkHello(_setup.JobId, _setup.Device, _setup.Epoch, _pass), Self);
            _handOffsAtProbe = State.HandOffsSent;
        }

        Pump();
    }

    /// <summary>
    /// Puts a frame on the wire to the successor. Without a fault plan (a local job: nothing is lost, nothing retransmitted)
    /// the block goes bare and is not acknowledged; with one, the numbered frame goes.
    /// </summary>
    private void Transmit(LinkFrame frame) =>
        _bytesToSuccessor += RingWire.Tell(Context.System, _senders.Successor, _setup.Faults is null ? frame.Block : frame, Self);

    /// <summary>Answers the supervisor's flush once nothing is unacknowledged: every fault event of the link has been sent by then.</summary>
    private void AnswerFlushWhenIdle()
    {
        if (_flushRequester is not null && _flushJob is not null && Link.Unacknowledged == 0 && (_outbox?.Unacknowledged ?? 0) == 0)
        {
            if (!_losses.Lose(LostMessages.FlushAnswer))
            {
                Send(_flushRequester, new FaultsFlushed(_flushJob, _setup.Device));
            }

            _flushRequester = null;
        }
    }

    private void Refuse(AcceptBlock block, string reason)
    {
        _log.Warning("Device {0} of job {1} refused the block of device {2} for step {3}: {4}", _setup.Device, _setup.JobId, block.Origin, block.Step, reason);
        var refusal = new BlockRefused(block.JobId, _setup.Device, block.Origin, block.Step, reason);
        Sender.Tell(refusal);
        if (block.JobId == _setup.JobId && !_senders.Supervisor.IsNobody() && !_senders.Supervisor.Equals(Sender))
        {
            // A malformed block of our own job means this device can never finish: the supervisor must know at once.
            _senders.Supervisor.Tell(refusal);
        }
    }

    private void Acknowledge(SetupTaken taken)
    {
        if (!_losses.Lose(LostMessages.Acknowledgement))
        {
            Send(_senders.Supervisor, taken);
        }
    }

    /// <summary>Sends to the supervisor (or a reply) through <see cref="RingWire"/> and counts the bytes that crossed the network.</summary>
    private void Send(IActorRef target, IRingMessage message) =>
        _bytesToSupervisor += RingWire.Tell(Context.System, target, message, Self);

    /// <summary>
    /// A piece of a large message from another node: once whole, it is handled like any message from its sender. A refused
    /// transfer is logged once and dropped, never thrown: what a peer sends must not restart the device.
    /// </summary>
    private void OnChunk(BlockChunk chunk)
    {
        _wireInbox ??= new WireInbox(Context.System);
        var result = _wireInbox.Accept(chunk, Sender);
        if (result.Message is { } message)
        {
            Self.Tell(message, Sender);
        }
        else if (result.Reason is { } reason && _drops.Line(WireInbox.KindOf(reason), $"Device {_setup.Device} of job {_setup.JobId}: {reason}") is { } line)
        {
            _log.Warning("{0}", line); // once per kind of refusal: a peer may forge thousands of transfers
        }

        _wireInbox.ScheduleSweep(Timers);
    }

    private void SweepWire()
    {
        var (transfers, bytes) = _wireInbox?.Sweep() ?? default;
        if (transfers > 0)
        {
            _log.Warning("Device {0} of job {1}: freed {2} partial transfers ({3} bytes) that received nothing for ring-actors.transport.transfer-timeout", _setup.Device, _setup.JobId, transfers, bytes);
        }

        _wireInbox?.ScheduleSweep(Timers);
    }

    private void IgnoreForeign(IRingMessage message) => Drop(message, "not for this device (another job, or not a device's message)");

    private static string? JobOf(IRingMessage message) => message switch
    {
        AssignChunk m => m.JobId,
        RecoverChunk m => m.JobId,
        StartRing m => m.JobId,
        GrantCredit m => m.JobId,
        AcceptBlock m => m.JobId,
        LinkFrame m => m.JobId,
        StartBackward m => m.JobId,
        RecoverBackward m => m.JobId,
        RecomputeContribution m => m.JobId,
        Contribution m => m.JobId,
        ContributionAck m => m.JobId,
        _ => null,
    };

    /// <summary>A message of the backward pass, which a device still in its forward keeps for later.</summary>
    private static bool IsBackwardMessage(IRingMessage message) => message switch
    {
        AcceptBlock m => m.Pass == RingPass.Backward,
        LinkFrame m => m.Block.Pass == RingPass.Backward,
        GrantCredit m => m.Pass == RingPass.Backward,
        LinkHello m => m.Pass == RingPass.Backward,
        LinkResume m => m.Pass == RingPass.Backward,
        Contribution or ContributionAck or RecomputeContribution => true,
        _ => false,
    };

    /// <summary>The contribution outbox's requests, carried out with this actor's timers and refs.</summary>
    private sealed class ContributionEffects(DeviceActor device) : IContributionEffects
    {
        public void Transmit(Contribution contribution, TimeSpan delay)
        {
            if (delay <= TimeSpan.Zero)
            {
                device.TransmitContribution(contribution);
            }
            else
            {
                device.Timers.StartSingleTimer(("deliver-contribution", device._contributionDeliveries++), new DeliverContribution(contribution), delay);
            }
        }

        public void StartAckTimer(long sequence, TimeSpan after) =>
            device.Timers.StartSingleTimer(("contribution-ack", sequence), new ContributionTimeout(sequence), after);

        public void CancelAckTimer(long sequence) => device.Timers.Cancel(("contribution-ack", sequence));

        public void Report(FaultEvent observed) => device.Send(device._senders.Supervisor, new FaultObserved(device._setup.JobId, observed));

        // Step P marks the contribution hop (not a ring step); Origin names the home it was for.
        public void Fail(int home, int attempts, string reason) =>
            device.Send(device._senders.Supervisor, new LinkFailed(device._setup.JobId, device._setup.Device, device._setup.Devices, home, attempts, reason));
    }

    /// <summary>The link's requests, carried out with this actor's timers and refs.</summary>
    private sealed class LinkEffects(DeviceActor device) : ILinkEffects
    {
        public void Transmit(LinkFrame frame, TimeSpan delay)
        {
            if (delay <= TimeSpan.Zero)
            {
                device.Transmit(frame);
            }
            else
            {
                device.Timers.StartSingleTimer(("deliver", device._deliveries++), new Deliver(frame), delay);
            }
        }

        public void StartAckTimer(long sequence, TimeSpan after) =>
            device.Timers.StartSingleTimer(("ack", sequence), new AckTimeout(sequence), after);

        public void CancelAckTimer(long sequence) => device.Timers.Cancel(("ack", sequence));

        public void StartPartitionTimer(TimeSpan after) => device.Timers.StartSingleTimer(PartitionTimer, PartitionHealed.Instance, after);

        public void Report(FaultEvent observed) => device.Send(device._senders.Supervisor, new FaultObserved(device._setup.JobId, observed));

        public void Fail(LinkFailed failure) => device.Send(device._senders.Supervisor, failure);

        public void ReleaseCredit(GrantCredit grant) => device.Self.Tell(new ReleasedCredit(grant));
    }

    // The device's own timer and self messages: they never leave the actor, so serialize-messages need not check them.
    private sealed record AckTimeout(long Sequence) : INoSerializationVerificationNeeded;

    private sealed record Deliver(LinkFrame Frame) : INoSerializationVerificationNeeded;

    private sealed record ReleasedCredit(GrantCredit Grant) : INoSerializationVerificationNeeded;

    private sealed record ContributionTimeout(long Sequence) : INoSerializationVerificationNeeded;

    private sealed record DeliverContribution(Contribution Contribution) : INoSerializationVerificationNeeded;

    private sealed class ProbeSuccessor : INoSerializationVerificationNeeded
    {
        public static readonly ProbeSuccessor Instance = new();
    }

    private sealed class PartitionHealed : INoSerializationVerificationNeeded
    {
        public static readonly PartitionHealed Instance = new();
    }
}
