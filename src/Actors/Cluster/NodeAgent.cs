using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using RingActors.Actors.Protocol;
using AkkaCluster = Akka.Cluster.Cluster;

namespace RingActors.Actors.Cluster;

/// <summary>
/// A small actor every ring node runs at <see cref="Path"/>: on <see cref="CrashOrder"/> (the <c>crash-node</c> fault) it ends
/// its node abruptly, without leaving the cluster — by default the whole process dies (SIGKILL), so the survivors see what a
/// real crash looks like: silence, unreachability, the split-brain resolver downing the node. It obeys only a ring
/// supervisor of this node or of a coordinator member (<see cref="CrashOrderPolicy"/>); other orders are logged once and dropped.
/// </summary>
public sealed class NodeAgent : ReceiveActor
{
    /// <summary>The agent's name under /user.</summary>
    public const string Name = "ring-node-agent";

    private readonly LogOnce _drops = new();

    public NodeAgent(Action<ActorSystem> crash, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        var log = Context.GetLogger();

        // Anyone may ask: the answer proves only what the certificate already says, to whoever sent the nonce.
        Receive<ProveMembership>(m => Sender.Tell(MembershipProofs.Answer(m, SelfAddress(), certificate)));
        Receive<CrashOrder>(m =>
        {
            if (CrashOrderPolicy.Refusal(Sender.Path, SelfAddress(), Coordinators()) is { } refusal)
            {
                if (_drops.Line(Sender.Path.ToString(), $"Node {SelfAddress()}: refused a crash order ({m.Fault}) from {Sender.Path}: {refusal}") is { } line)
                {
                    log.Warning("{0}", line);
                }

                return;
            }

            log.Warning("Node {0}: crashing on purpose ({1}, ordered by {2})", Context.System.Name, m.Fault, Sender.Path);
            crash(Context.System);
        });
    }

    /// <summary>The agent's path on the node at <paramref name="address"/>.</summary>
    public static ActorPath Path(Address address) => new RootActorPath(address) / "user" / Name;

    /// <summary>Kills this process at once (SIGKILL on Unix): no shutdown hook, no leaving, no goodbye to the peers.</summary>
    public static void KillProcess(ActorSystem system) => System.Diagnostics.Process.GetCurrentProcess().Kill();

    /// <summary>
    /// Ends <paramref name="system"/> in one process without leaving the cluster (for tests with several nodes in one process):
    /// the actor system terminates without running CoordinatedShutdown's cluster phases (the node must be configured with
    /// <c>akka.coordinated-shutdown.run-by-actor-system-terminate = off</c>), so the others see it fall silent.
    /// </summary>
    public static void AbortSystem(ActorSystem system) => system.Terminate();

    /// <summary>The agent; <paramref name="certificate"/> (with its key) is this node's TLS identity, with which it answers <see cref="ProveMembership"/>.</summary>
    public static Props Props(Action<ActorSystem> crash, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null) =>
        Akka.Actor.Props.Create(() => new NodeAgent(crash, certificate));

    private Address SelfAddress() => AkkaCluster.Get(Context.System).SelfAddress;

    private HashSet<Address> Coordinators() =>
        AkkaCluster.Get(Context.System).State.Members
            .Where(m => m.Status == MemberStatus.Up && m.HasRole(ClusterRoles.Coordinator))
            .Select(m => m.Address)
            .ToHashSet();
}
