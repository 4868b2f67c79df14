using Akka.Actor;
using RingActors.Actors.Protocol;

namespace RingActors.Actors.Devices;

/// <summary>
/// A device's compute child: runs one <see cref="ComputeTicket"/> at a time on the compute dispatcher and answers with its
/// <see cref="ComputeOutcome"/>. A kernel waits for a slot of the dispatcher's <see cref="ComputeGate"/>, which admits the
/// device with the most work left first; blocks the mask leaves empty and phantom tickets take no slot (they compute nothing).
/// A kernel failure is rethrown as a <see cref="RingDeviceException"/> naming device and step, which the device escalates
/// to the ring supervisor.
/// </summary>
internal sealed class ComputeWorker : ReceiveActor
{
    private readonly ComputeGate? _gate;
    private ComputeGate.Request? _request;

    public ComputeWorker(DeviceHooks hooks, string dispatcher)
    {
        _gate = ComputeGates.Get(Context.System).For(dispatcher);
        Receive<ComputeTicket>(ticket =>
        {
            if (_gate is null || ticket.TakesNoSlot)
            {
                Sender.Tell(Compute(ticket, hooks));
                return;
            }

            var admitted = new Admitted(ticket, Sender);
            var self = Self;
            _request = _gate.Enter(ticket.WorkLeft, () => self.Tell(admitted));
        });
        Receive<Admitted>(m =>
        {
            _gate!.Ran(_request!);
            _request = null;
            try
            {
                m.ReplyTo.Tell(Compute(m.Ticket, hooks));
            }
            finally
            {
                _gate.Leave();
            }
        });
    }

    public static Props Props(DeviceSetup setup) =>
        Akka.Actor.Props.Create(() => new ComputeWorker(setup.Hooks, setup.ComputeDispatcher)).WithDispatcher(setup.ComputeDispatcher);

    protected override void PostStop()
    {
        // Killed or restarted with a kernel still waiting (or admitted but not yet run): its slot must not be lost.
        if (_request is not null)
        {
            _gate!.Abandon(_request);
            _request = null;
        }
    }

    private static ComputeOutcome Compute(ComputeTicket ticket, DeviceHooks hooks)
    {
        try
        {
            if (hooks.FailsAt(ticket.Device, ticket.Step) && !hooks.StopInsteadOfThrowing)
            {
                throw new InvalidOperationException("injected fault (test hook)");
            }

            var outcome = ticket.Execute(hooks.ComputeDelay);
            return hooks.SlowFactor > 1 ? SlowCompute.Stretch(outcome, hooks.SlowFactor) : outcome;
        }
        catch (Exception e) when (e is not RingDeviceException)
        {
            throw new RingDeviceException(ticket.Device, ticket.Step, ticket.Origin, e);
        }
    }

    /// <summary>The gate gave the ticket its slot; sent by the worker to itself.</summary>
    private sealed record Admitted(ComputeTicket Ticket, IActorRef ReplyTo) : INoSerializationVerificationNeeded;
}
