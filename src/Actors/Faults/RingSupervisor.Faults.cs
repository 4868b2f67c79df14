using Akka.Actor;
using Akka.Event;
using RingActors.Actors.Faults;
using RingActors.Math;
using static RingActors.Actors.Faults.FaultProtocol;

namespace RingActors.Actors;

/// <summary>
/// The supervisor's part in fault experiments (jobs with <see cref="RingJobSettings.Faults"/>): hand-offs travel over
/// acknowledged <see cref="FaultLink"/>s (children of the supervisor, so they outlive device restarts); a device that stops
/// or throws is re-created as a <see cref="RecoveredDevice"/> of the next epoch and given its chunk and blocks again, while
/// every result and count the supervisor already holds stays; the faults' effects are collected in a <see cref="FaultLedger"/>.
/// </summary>
public sealed partial class RingSupervisor
{
    private FaultLedger? _ledger;
    private IActorRef[] _links = [];
    private int[] _epochs = [];
    private long[] _crashedAt = [];
    private long[] _killedAt = [];
    private int _restarts;
    private int _linksToFlush = -1;

    private FaultPlan? _plan;

    /// <summary>The job's plan with this trial's random draws made (kill-device:?@?).</summary>
    private FaultPlan? Plan => _plan ??= _job.Settings.Faults?.ForTrial(_job.Settings.Trial, Devices);

    /// <summary>Device r's test hooks plus the plan's faults on it (kill at a step, slow compute).</summary>
    private DeviceHooks HooksFor(int device)
    {
        var hooks = _job.Settings.Hooks;
        if (Plan is not { } plan)
        {
            return hooks;
        }

        if (plan.Faults.OfType<FaultSpec.KillDevice>().Where(k => k.Device == device).OrderBy(k => k.Step).FirstOrDefault() is { } kill)
        {
            hooks = hooks with { FailingDevice = device, FailAtStep = kill.Step, StopInsteadOfThrowing = true };
        }

        var slow = plan.Faults.OfType<FaultSpec.SlowDevice>().Where(s => s.Device == device).Select(s => s.Factor).DefaultIfEmpty(1).Aggregate((a, b) => a * b);
        return slow > 1 ? hooks with { SlowFactor = slow } : hooks;
    }

    /// <summary>
    /// Where each device sends its hand-offs (successor) and its credits (predecessor): the neighbours themselves in a plain
    /// job, the links between them under a fault plan.
    /// </summary>
    private (IActorRef[] Predecessors, IActorRef[] Successors) WireLinks(IActorRef[] devices)
    {
        var topology = new RingTopology(Devices);
        if (Plan is not { } plan)
        {
            return (devices.Select((_, r) => devices[topology.Predecessor(r)]).ToArray(), devices.Select((_, r) => devices[topology.Successor(r)]).ToArray());
        }

        _ledger = new FaultLedger(plan, _job.Settings.Trial);
        _epochs = new int[Devices];
        _crashedAt = new long[Devices];
        _killedAt = new long[Devices];
        var initialCredits = System.Math.Min(_job.System.MaxBlocksHeld - 1, Devices - 1);
        _links = Enumerable.Range(0, Devices)
            .Select(r => Context.ActorOf(FaultLink.Props(_job.JobId, r, Devices, initialCredits, plan, _job.Settings.Trial, Self), $"link-{r}"))
            .ToArray();
        for (var r = 0; r < Devices; r++)
        {
            _links[r].Tell(new WireLink(devices[r], devices[topology.Successor(r)], 0));
        }

        return (_links.Select((_, r) => _links[topology.Predecessor(r)]).ToArray(), _links);
    }

    /// <summary>
    /// Every chunk is in. A link reports a recovered hand-off when its acknowledgement arrives, which may be after the last
    /// chunk reached the supervisor: ask each link to flush first (its events precede its answer), then finish.
    /// </summary>
    private void FinishAfterFaults()
    {
        if (_links.Length == 0)
        {
            Finish();
            return;
        }

        if (_linksToFlush < 0)
        {
            _linksToFlush = _links.Length;
            foreach (var link in _links)
            {
                link.Tell(new FlushFaults(_job.JobId));
            }
        }
    }

    private void FaultHandlers()
    {
        Receive<FaultsFlushed>(m => m.JobId == _job.JobId, _ =>
        {
            if (--_linksToFlush == 0)
            {
                Finish();
            }
        });
        Receive<FaultObserved>(m => m.JobId == _job.JobId, m => _ledger?.Add(m.Event));
        Receive<LinkFailed>(m => m.JobId == _job.JobId, m =>
        {
            if (!ReceiverNodeIsDown(m))
            {
                Fail(m.Reason);
            }
        });
        Receive<DeviceKilled>(m => m.JobId == _job.JobId, m =>
        {
            if ((uint)m.Device < (uint)_killedAt.Length)
            {
                _killedAt[m.Device] = m.At; // detection follows with the device's Terminated (DeathWatch)
            }
        });
    }

    /// <summary>Re-creates device <paramref name="r"/> when the plan allows; false leaves the failure to the caller.</summary>
    private bool TryRecover(IActorRef dead, int r)
    {
        if (Plan is not { } plan || _layout is null)
        {
            return false;
        }

        var cause = _failures.TryGetValue(dead, out var failure) ? failure.Message : $"device {r} stopped";
        if (_restarts >= plan.MaxRestarts)
        {
            Fail($"{cause}; not re-created: max-restarts ({plan.MaxRestarts}) reached ({plan.Describe()})");
            return true;
        }

        Address? node = null;
        if (_placement is not null && (node = SurvivorFor(r)) is null)
        {
            Fail($"{(_lossCause.Length > r ? _lossCause[r] : null) ?? cause}: device {r} cannot be re-created, every device node is gone ({string.Join(", ", _lostNodes.Union(_doomedNodes))})");
            return true;
        }

        _restarts++;
        _ledger!.Restarts = _restarts;
        _devices.Remove(dead);
        _crashedAt[r] = Now;
        var epoch = ++_epochs[r];
        var shape = _job.Input.Shape;
        var setup = new DeviceSetup(_job.JobId, r, Devices, shape.SeqLen, AttentionHeads.Of(shape), _job.Settings.OptionsFor(_job.ThreadsPerDevice), _job.System.MaxBlocksHeld, _job.System.ComputeDispatcher)
        {
            Hooks = HooksFor(r) with { FailingDevice = -1, FailAtStep = -1 },
            Epoch = epoch,
        };
        var outLink = Devices > 1 ? _links[r] : ActorRefs.Nobody;
        var props = RecoveredDevice.Props(setup, outLink, Self);
        if (node is not null)
        {
            // On a surviving device node, still our child (watched and supervised as the first incarnation was).
            props = props.WithDeploy(new Deploy(new RemoteScope(node)));
            _placement![r] = node;
        }

        var device = Context.ActorOf(props, $"device-{r}-e{epoch}");
        Context.Watch(device);
        _devices[device] = r;
        _blocksDone[r] = 0;

        // The supervisor holds the input: the chunk and every block the new incarnation needs come from it.
        var topology = new RingTopology(Devices);
        var chunk = _layout.QueryChunkOf(_job.Input, r);
        var blocks = Enumerable.Range(0, Devices).Select(s => _layout.KeyValueBlockOf(_job.Input, topology.OriginAt(r, s))).ToList();
        _networkBytes += Serialization.RingWire.Tell(Context.System, device, new RecoverChunk(_job.JobId, chunk.Data, chunk.Positions, blocks), Self);
        if (Devices > 1)
        {
            _links[topology.Predecessor(r)].Tell(new ReceiverReplaced(device, epoch));
            _links[r].Tell(new SenderReplaced(device));
        }

        _log.Warning("Ring job {0}: {1}; re-created as epoch {2}", _job.JobId, cause, epoch);
        return true;
    }

    /// <summary>A re-created device finished: its crash is recovered; record what it cost.</summary>
    private void NoteRecovered(int r)
    {
        if (_ledger is null || _crashedAt[r] == 0)
        {
            return;
        }

        var result = _results[r]!;
        var stats = result.Stats;
        _ledger.PairsRecomputed += stats.PairsComputed;
        var kill = (_lossCause.Length > r ? _lossCause[r] : null) ?? Plan!.Faults.OfType<FaultSpec.KillDevice>().FirstOrDefault(k => k.Device == r)?.ToString() ?? $"crash of device {r}";
        _ledger.Add(new FaultEvent(
            kill,
            $"device {r}",
            _killedAt[r] != 0 ? _killedAt[r] : _crashedAt[r],
            _crashedAt[r],
            Now,
            "re-created with its chunk and blocks from the supervisor; its chunk recomputed, the hand-offs its successor still needed resent",
            stats.HandOffsSent,
            stats.BytesReceived + stats.BytesSent));
        _crashedAt[r] = 0;
        _killedAt[r] = 0;
        if (_lossCause.Length > r)
        {
            _lossCause[r] = null;
        }
    }

    private string FaultsNote() => Plan is { } plan ? $" (faults: {plan.Describe()}; {_restarts} devices re-created)" : string.Empty;
}
