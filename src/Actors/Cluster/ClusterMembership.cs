using Akka.Actor;
using Akka.Cluster;
using AkkaCluster = Akka.Cluster.Cluster;

namespace RingActors.Actors.Cluster;

/// <summary>Who is Up in the cluster, and waiting until enough members of a role are.</summary>
public static class ClusterMembership
{
    /// <summary>The members that are Up and have <paramref name="role"/>, ordered by address (a stable placement order).</summary>
    public static IReadOnlyList<Member> UpWithRole(IEnumerable<Member> members, string role) =>
        members.Where(member => member.Status == MemberStatus.Up && member.HasRole(role))
            .OrderBy(member => member.Address, Member.AddressOrdering)
            .ToList();

    /// <summary>
    /// Completes with the Up members of <paramref name="role"/> (ordered by address) as soon as there are at least
    /// <paramref name="count"/>; faults with a <see cref="TimeoutException"/> saying how many were Up after <paramref name="timeout"/>.
    /// </summary>
    public static Task<IReadOnlyList<Member>> WaitForUpAsync(
        ActorSystem system, string role, int count, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(system);
        ClusterRoles.Validate(role);
        if (count <= 0)
        {
            throw new ArgumentException($"count must be ≥ 1, got {count}", nameof(count));
        }

        if (timeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"timeout must be positive, got {timeout}", nameof(timeout));
        }

        var completion = new TaskCompletionSource<IReadOnlyList<Member>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var watcher = system.ActorOf(Props.Create(() => new MembershipWatcher(role, count, timeout, completion)));
        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(() =>
            {
                completion.TrySetCanceled(cancellationToken);
                watcher.Tell(PoisonPill.Instance);
            });
            completion.Task.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
        }

        return completion.Task;
    }

    /// <summary>Follows member events until enough members of the role are Up, or the timeout fires; then stops.</summary>
    private sealed class MembershipWatcher : ReceiveActor, IWithTimers
    {
        private readonly Dictionary<UniqueAddress, Member> _members = [];
        private readonly string _role;
        private readonly int _count;
        private readonly TimeSpan _timeout;
        private readonly TaskCompletionSource<IReadOnlyList<Member>> _completion;

        public MembershipWatcher(string role, int count, TimeSpan timeout, TaskCompletionSource<IReadOnlyList<Member>> completion)
        {
            _role = role;
            _count = count;
            _timeout = timeout;
            _completion = completion;
            Receive<ClusterEvent.CurrentClusterState>(state =>
            {
                foreach (var member in state.Members)
                {
                    _members[member.UniqueAddress] = member;
                }

                Check();
            });
            Receive<ClusterEvent.MemberRemoved>(removed =>
            {
                _members.Remove(removed.Member.UniqueAddress);
                Check();
            });
            Receive<ClusterEvent.IMemberEvent>(changed =>
            {
                _members[changed.Member.UniqueAddress] = changed.Member;
                Check();
            });
            Receive<TimedOut>(_ =>
            {
                var up = UpWithRole(_members.Values, _role).Count;
                _completion.TrySetException(new TimeoutException($"{up} of {_count} {_role} members Up after {_timeout.TotalSeconds:0.#} s"));
                Context.Stop(Self);
            });
        }

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PreStart()
        {
            AkkaCluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.IMemberEvent));
            Timers.StartSingleTimer(TimedOut.Instance, TimedOut.Instance, _timeout);
        }

        protected override void PostStop()
        {
            AkkaCluster.Get(Context.System).Unsubscribe(Self);
            _completion.TrySetException(new InvalidOperationException("stopped before enough members were Up (actor system shutting down?)"));
        }

        private void Check()
        {
            var up = UpWithRole(_members.Values, _role);
            if (up.Count >= _count)
            {
                _completion.TrySetResult(up);
                Context.Stop(Self);
            }
        }

        private sealed class TimedOut
        {
            public static readonly TimedOut Instance = new();
        }
    }
}
