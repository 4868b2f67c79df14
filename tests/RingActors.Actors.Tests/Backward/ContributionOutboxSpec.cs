using RingActors.Actors.Devices;
using RingActors.Actors.Faults;
using static RingActors.Actors.Protocol.GradientProtocol;

namespace RingActors.Actors.Tests.Backward;

public class ContributionOutboxSpec
{
    private static readonly FaultPlan Plan = FaultPlan.FromSpecs([]) with { Retries = 2, AckTimeout = TimeSpan.FromMilliseconds(10) };

    [Fact]
    public void ContributionOutbox_must_keep_a_contribution_until_its_home_acknowledges_it_and_retransmit_it_meanwhile()
    {
        var effects = new Effects();
        var outbox = new ContributionOutbox("job", 1, 3, 0, Plan, 0, [0, 0, 0], effects);

        outbox.Send(2, [1, 2], [3, 4]);
        var sent = Assert.Single(effects.Sent);
        Assert.Equal((1, 2, 0L), (sent.Contributor, sent.Home, sent.Sequence));
        Assert.Equal(1, outbox.Unacknowledged);

        outbox.OnAckTimeout(0);
        Assert.Equal(2, effects.Sent.Count);
        Assert.Equal(sent, effects.Sent[1]); // the same contribution: its home sums it once whichever copy arrives
        outbox.OnAck(new ContributionAck("job", 2, 0, 0, Duplicate: false));
        outbox.OnAck(new ContributionAck("job", 2, 0, 0, Duplicate: true));

        Assert.Equal(0, outbox.Unacknowledged);
        Assert.Equal(1, outbox.Retransmissions);
        Assert.Single(effects.Reports); // the recovered retransmission, once
    }

    [Fact]
    public void ContributionOutbox_must_fail_once_the_retries_are_spent()
    {
        var effects = new Effects();
        var outbox = new ContributionOutbox("job", 0, 2, 0, Plan, 0, [0, 0], effects);

        outbox.Send(1, [], []);
        outbox.OnAckTimeout(0);
        outbox.OnAckTimeout(0);
        outbox.OnAckTimeout(0);

        var (home, attempts, reason) = Assert.Single(effects.Failures);
        Assert.Equal((1, 3), (home, attempts));
        Assert.Contains("device 0's dK/dV contribution to device 1's block went unacknowledged 3 times; retries (2) exhausted", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ContributionOutbox_must_drop_what_is_pending_for_a_lost_home_and_address_the_new_incarnation()
    {
        var effects = new Effects();
        var outbox = new ContributionOutbox("job", 0, 3, 1, Plan, 0, [0, 0, 0], effects);
        outbox.Send(1, [1], [1]);
        outbox.Send(2, [1], [1]);

        Assert.Equal(1, outbox.HomeReplaced(1, 1));
        Assert.Equal(0, outbox.HomeReplaced(1, 1)); // the same news again changes nothing
        outbox.Send(1, [2], [2]);

        Assert.Equal(2, outbox.Unacknowledged);
        Assert.Equal(1, effects.Sent[^1].HomeEpoch);
        outbox.OnAck(new ContributionAck("job", 1, 0, 2, false)); // for another incarnation of this contributor: ignored
        Assert.Equal(2, outbox.Unacknowledged);
    }

    [Fact]
    public void ContributionOutbox_without_a_plan_must_send_once_and_keep_nothing()
    {
        var effects = new Effects();
        var outbox = new ContributionOutbox("job", 0, 2, 0, null, 0, [0, 0], effects);

        outbox.Send(1, [1], [1]);

        Assert.Single(effects.Sent);
        Assert.Equal(0, outbox.Unacknowledged);
        Assert.Empty(effects.Timers);
    }

    private sealed class Effects : IContributionEffects
    {
        public List<Contribution> Sent { get; } = [];

        public HashSet<long> Timers { get; } = [];

        public List<FaultEvent> Reports { get; } = [];

        public List<(int Home, int Attempts, string Reason)> Failures { get; } = [];

        public void Transmit(Contribution contribution, TimeSpan delay) => Sent.Add(contribution);

        public void StartAckTimer(long sequence, TimeSpan after) => Timers.Add(sequence);

        public void CancelAckTimer(long sequence) => Timers.Remove(sequence);

        public void Report(FaultEvent observed) => Reports.Add(observed);

        public void Fail(int home, int attempts, string reason) => Failures.Add((home, attempts, reason));
    }
}
