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

    // With TLS: whether the member at an address proved the coordinator role (null) or why not.
    private readonly Dictionary<Address, string?> _coordinators = [];

    public NodeAgent(Action<ActorSystem> crash, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null, PeerTrust? trust = null)
    {
        var log = Context.GetLogger();
        void Refuse(CrashOrder m, IActorRef sender, string refusal)
        {
            if (_drops.Line(sender.Path.ToString(), $"Node {SelfAddress()}: refused a crash order ({m.Fault}) from {sender.Path}: {refusal}") is { } line)
            {
                log.Warning("{0}", line);
            }
        }

        void Crash(CrashOrder m, IActorRef sender)
        {
            log.Warning("Node {0}: crashing on purpose ({1}, ordered by {2})", Context.System.Name, m.Fault, sender.Path);
            crash(Context.System);
        }

        // Anyone may ask: the answer proves only what the certificate already says, to whoever sent the nonce.
        Receive<ProveMembership>(m => Sender.Tell(MembershipProofs.Answer(m, SelfAddress(), certificate)));
        Receive<CrashOrder>(m =>
        {
            if (CrashOrderPolicy.Refusal(Sender.Path, SelfAddress(), Coordinators()) is { } refusal)
            {
                Refuse(m, Sender, refusal);
                return;
            }

            // With TLS the coordinator role is proved, not declared: its node agent signs a challenge with its certificate.
            var from = Sender.Path.Address;
            if (trust is null || !from.HasGlobalScope || from.Equals(SelfAddress()))
            {
                Crash(m, Sender);
            }
            else if (_coordinators.TryGetValue(from, out var why))
            {
                if (why is null)
                {
                    Crash(m, Sender);
                }
                else
                {
                    Refuse(m, Sender, why);
                }
            }
            else
            {
                var challenge = MembershipProofs.Challenge();
                var sender = Sender;
                Context.ActorSelection(Path(from)).Ask<MembershipProof>(challenge, TimeSpan.FromSeconds(10))
                    .PipeTo(Self, success: proof => new Proved(m, sender, challenge.Nonce, proof), failure: _ => new Proved(m, sender, challenge.Nonce, null));
            }
        });
        Receive<Proved>(p =>
        {
            var from = p.Sender.Path.Address;
            var why = p.Proof is null
                ? $"{from} did not prove its coordinator role in time"
                : MembershipProofs.Refusal(p.Proof, p.Nonce, from, ClusterRoles.Coordinator, trust!, DateTimeOffset.UtcNow);
            if (p.Proof is not null)
            {
                _coordinators[from] = why;
            }

            if (why is null)
            {
                Crash(p.Order, p.Sender);
            }
            else
            {
                Refuse(p.Order, p.Sender, $"not a proved coordinator: {why}");
            }
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

    /// <summary>
    /// The agent; <paramref name="certificate"/> (with its key) is this node's TLS identity, with which it answers
    /// <see cref="ProveMembership"/>. With <paramref name="trust"/> (TLS), a crash order from another node is obeyed only once
    /// that node's agent proved its certificate names the coordinator role.
    /// </summary>
    public static Props Props(Action<ActorSystem> crash, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null, PeerTrust? trust = null) =>
        Akka.Actor.Props.Create(() => new NodeAgent(crash, certificate, trust));

    /// <summary>The answer to the challenge sent before obeying <paramref name="Order"/> (null: none in time).</summary>
    private sealed record Proved(CrashOrder Order, IActorRef Sender, byte[] Nonce, MembershipProof? Proof) : INoSerializationVerificationNeeded;

    private Address SelfAddress() => AkkaCluster.Get(Context.System).SelfAddress;

    private HashSet<Address> Coordinators() =>
        AkkaCluster.Get(Context.System).State.Members
            .Where(m => m.Status == MemberStatus.Up && m.HasRole(ClusterRoles.Coordinator))
            .Select(m => m.Address)
            .ToHashSet();
}
