using System.Collections.Concurrent;
using Akka.Actor;

namespace RingActors.Actors.Devices;

/// <summary>
/// One <see cref="ComputeGate"/> per compute dispatcher of an ActorSystem, shared by every job's devices on it (they share
/// its threads too). A dispatcher without a <c>dedicated-thread-pool.thread-count</c> gets no gate: its workers run as the
/// dispatcher schedules them.
/// </summary>
public sealed class ComputeGates : IExtension
{
    private readonly ActorSystem _system;
    private readonly ConcurrentDictionary<string, ComputeGate?> _gates = new();

    private ComputeGates(ActorSystem system) => _system = system;

    public static ComputeGates Get(ActorSystem system) => system.WithExtension<ComputeGates, Provider>();

    /// <summary>The gate of <paramref name="dispatcherId"/>, with as many slots as its dedicated threads; null when it has none.</summary>
    public ComputeGate? For(string dispatcherId) => _gates.GetOrAdd(dispatcherId, id =>
    {
        var threads = _system.Settings.Config.GetInt($"{id}.dedicated-thread-pool.thread-count", 0);
        return threads >= 1 ? new ComputeGate(threads) : null;
    });

    private sealed class Provider : ExtensionIdProvider<ComputeGates>
    {
        public override ComputeGates CreateExtension(ExtendedActorSystem system) => new(system);
    }
}
