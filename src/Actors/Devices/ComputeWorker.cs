using Akka.Actor;
using RingActors.Actors.Protocol;

namespace RingActors.Actors.Devices;

/// <summary>
/// A device's compute child: runs one <see cref="ComputeTicket"/> at a time on the compute dispatcher and answers with its
/// <see cref="ComputeOutcome"/>. A kernel failure is rethrown as a <see cref="RingDeviceException"/> naming device and step,
/// which the device escalates to the ring supervisor.
/// </summary>
internal sealed class ComputeWorker : ReceiveActor
{
    public ComputeWorker(DeviceHooks hooks)
    {
        Receive<ComputeTicket>(ticket => Sender.Tell(Compute(ticket, hooks)));
    }

    public static Props Props(DeviceSetup setup) =>
        Akka.Actor.Props.Create(() => new ComputeWorker(setup.Hooks)).WithDispatcher(setup.ComputeDispatcher);

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
}
