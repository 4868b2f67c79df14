using RingActors.Actors.Devices;
using RingActors.Actors.Faults;
using static RingActors.Actors.Protocol.FaultProtocol;
using static RingActors.Actors.Protocol.LinkProtocol;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors.Tests.Devices;

/// <summary>The sending end of a device's link, without an actor: every effect it asks for is recorded and inspected.</summary>
public class OutboundLinkSpec
{
    private const string Job = "job-link";
    private const int P = 4;

    /// <summary>No faults and a long acknowledgement timeout: timers only fire when a test says so.</summary>
    private static readonly FaultPlan Patient = FaultPlan.None with { AckTimeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public void OutboundLink_must_send_frames_once_and_keep_nothing_without_a_plan()
    {
        var effects = new RecordingEffects();
        var link = new OutboundLink(Job, 0, P, 0, null, 0, effects);

        link.Send(HandOff(step: 1));
        link.Send(HandOff(step: 2));

        Assert.Equal([0L, 1L], effects.Frames.Select(f => f.Frame.Sequence));
        Assert.Empty(effects.Timers);
        Assert.Equal(0, link.Unacknowledged);
    }

    [Fact]
    public void OutboundLink_must_retransmit_until_acknowledged_and_then_stop()
    {
        var effects = new RecordingEffects();
        var link = new OutboundLink(Job, 0, P, 0, Patient, 0, effects);

        link.Send(HandOff(step: 1));
        link.OnAckTimeout(0);
        Assert.Equal([0L, 0L], effects.Frames.Select(f => f.Frame.Sequence));
        Assert.Equal(1, link.Retransmissions);

        link.OnAck(new LinkAck(Job, 0, 0, 0, Duplicate: false));
        link.OnAckTimeout(0);
        Assert.Equal(2, effects.Frames.Count);
        Assert.Equal(0, link.Unacknowledged);
        Assert.Contains(0L, effects.Cancelled);

        // The retransmission is a fault event ("ack timeout": no injected fault caused it), reported once acknowledged.
        Assert.Equal("ack timeout", Assert.Single(effects.Reports).Fault);
    }

    [Fact]
    public void OutboundLink_must_wait_longer_for_each_retransmission_up_to_sixteen_timeouts()
    {
        var effects = new RecordingEffects();
        var timeout = TimeSpan.FromMilliseconds(100);
        var link = new OutboundLink(Job, 0, P, 0, FaultPlan.None with { AckTimeout = timeout }, 0, effects);

        link.Send(HandOff(step: 1));
        for (var i = 0; i < 5; i++)
        {
            link.OnAckTimeout(0);
        }

        Assert.Equal([timeout, timeout * 2, timeout * 4, timeout * 8, timeout * 16, timeout * 16], effects.Timers.Select(t => t.After));
    }

    [Fact]
    public void OutboundLink_default_retries_must_outlast_the_cluster_finding_a_crashed_node_unreachable()
    {
        // Akka's failure detector marks a crashed node unreachable after about 3–6 s (heartbeat 1 s, acceptable pause 3 s);
        // only then does the coordinator re-create its devices. The default plan's retries must not run out before that.
        var effects = new RecordingEffects();
        var link = new OutboundLink(Job, 0, P, 0, FaultPlan.None, 0, effects);

        link.Send(HandOff(step: 1));
        for (var i = 0; i < FaultPlan.DefaultRetries; i++)
        {
            link.OnAckTimeout(0);
        }

        Assert.Empty(effects.Failures);
        var span = effects.Timers.Take(FaultPlan.DefaultRetries + 1).Aggregate(TimeSpan.Zero, (sum, timer) => sum + timer.After);
        Assert.True(span >= TimeSpan.FromSeconds(10), $"the default retries span {span}");
    }

    [Fact]
    public void OutboundLink_must_ignore_acknowledgements_for_another_sender_incarnation()
    {
        var effects = new RecordingEffects();
        var link = new OutboundLink(Job, 0, P, senderEpoch: 2, Patient, 0, effects);
        link.Send(HandOff(step: 1));

        link.OnAck(new LinkAck(Job, 0, SenderEpoch: 1, 0, Duplicate: false));
        Assert.Equal(1, link.Unacknowledged);
        link.OnAck(new LinkAck(Job, 0, SenderEpoch: 2, 0, Duplicate: false));
        Assert.Equal(0, link.Unacknowledged);
    }

    [Fact]
    public void OutboundLink_must_fail_when_retries_are_exhausted()
    {
        var effects = new RecordingEffects();
        var link = new OutboundLink(Job, 0, P, 0, FaultPlan.FromSpecs(["drop:1"]) with { Retries = 1 }, 0, effects);

        link.Send(HandOff(step: 1));
        link.OnAckTimeout(0);
        link.OnAckTimeout(0);

        Assert.Empty(effects.Frames); // drop:1 lost both transmissions
        var failed = Assert.Single(effects.Failures);
        Assert.Equal((0, 1, 2), (failed.Link, failed.Step, failed.Attempts));
        Assert.Contains("drop:1: the hand-off of device 0's block from device 0 to device 1", failed.Reason, StringComparison.Ordinal);
        Assert.Equal(0, link.Unacknowledged);
    }

    [Fact]
    public void OutboundLink_must_send_a_duplicate_twice_and_report_it_once_acknowledged()
    {
        var effects = new RecordingEffects();
        var link = new OutboundLink(Job, 0, P, 0, FaultPlan.FromSpecs(["duplicate:1"]) with { AckTimeout = Patient.AckTimeout }, 0, effects);

        link.Send(HandOff(step: 1));
        Assert.Equal(2, effects.Frames.Count);
        Assert.Equal(effects.Frames[0].Frame, effects.Frames[1].Frame);
        link.OnAck(new LinkAck(Job, 0, 0, 0, Duplicate: false));
        link.OnAck(new LinkAck(Job, 0, 0, 0, Duplicate: true));

        var observed = Assert.Single(effects.Reports);
        Assert.Equal("duplicate:1", observed.Fault);
        Assert.Equal(HandOff(1).PayloadBytes, observed.ExtraBytes);
    }

    [Fact]
    public void OutboundLink_must_delay_by_the_plan_and_wait_that_much_longer_for_the_acknowledgement()
    {
        var effects = new RecordingEffects();
        var link = new OutboundLink(Job, 0, P, 0, FaultPlan.FromSpecs(["delay:40"]) with { AckTimeout = TimeSpan.FromMilliseconds(100) }, 0, effects);

        link.Send(HandOff(step: 1));

        Assert.Equal(TimeSpan.FromMilliseconds(40), Assert.Single(effects.Frames).Delay);
        Assert.Equal(TimeSpan.FromMilliseconds(140), Assert.Single(effects.Timers).After);
    }

    [Fact]
    public void OutboundLink_must_drop_frames_a_recreated_receiver_holds_and_resend_the_others_to_its_epoch()
    {
        var effects = new RecordingEffects();
        var link = new OutboundLink(Job, 0, P, 0, Patient, 0, effects);
        link.Send(HandOff(step: 1));
        link.Send(HandOff(step: 2));
        effects.Frames.Clear();

        Assert.True(link.OnResume(new LinkResume(Job, 0, ReceiverEpoch: 1, Credits: 3, StepsHeld: [1])));

        var resent = Assert.Single(effects.Frames).Frame;
        Assert.Equal((1L, 1, 2), (resent.Sequence, resent.ReceiverEpoch, resent.Block.Step));
        Assert.Equal(1, link.Unacknowledged);
        Assert.Contains(0L, effects.Cancelled);

        // A late resume of an older receiver incarnation changes nothing.
        Assert.False(link.OnResume(new LinkResume(Job, 0, ReceiverEpoch: 0, Credits: 3, StepsHeld: [])));
        Assert.Equal(1, link.ReceiverEpoch);
    }

    [Fact]
    public void OutboundLink_must_hold_everything_while_cut_and_retransmit_when_healed_without_spending_retries()
    {
        var effects = new RecordingEffects();
        var link = new OutboundLink(Job, 0, P, 0, Patient with { Retries = 0 }, 0, effects);
        link.Send(HandOff(step: 1));
        link.Partition(new PartitionLink(Job, "partition:1@0+1", SenderCut: false, ReceiverCut: true, TimeSpan.FromSeconds(1)));

        // In the cut: the acknowledgement is lost, a timeout re-arms instead of failing, credits are held back.
        link.OnAck(new LinkAck(Job, 0, 0, 0, Duplicate: false));
        link.OnAckTimeout(0);
        Assert.False(link.AdmitCredit(new GrantCredit(Job, 1)));
        Assert.Empty(effects.Failures);
        Assert.Equal(1, link.Unacknowledged);

        link.Heal();

        Assert.False(link.IsCut);
        Assert.Equal(1, Assert.Single(effects.Released).Credits);
        Assert.Equal(2, effects.Frames.Count);
        Assert.Contains(effects.Reports, r => r.Fault == "partition:1@0+1" && r.Retransmissions == 1);
        Assert.True(link.AdmitCredit(new GrantCredit(Job, 1)));
    }

    [Fact]
    public void OutboundLink_must_hold_hand_offs_while_the_senders_node_is_cut_off()
    {
        var effects = new RecordingEffects();
        var link = new OutboundLink(Job, 0, P, 0, Patient, 0, effects);
        link.Partition(new PartitionLink(Job, "partition:0@0+1", SenderCut: true, ReceiverCut: false, TimeSpan.FromSeconds(1)));

        link.Send(HandOff(step: 1));
        Assert.Empty(effects.Frames);

        link.Heal();
        Assert.Equal(1, Assert.Single(effects.Frames).Frame.Block.Step);
    }

    private static AcceptBlock HandOff(int step) => new(Job, 0, step, 0, 0, new float[8], new float[8], [0]);

    private sealed class RecordingEffects : ILinkEffects
    {
        public List<(LinkFrame Frame, TimeSpan Delay)> Frames { get; } = [];

        public List<(long Sequence, TimeSpan After)> Timers { get; } = [];

        public List<long> Cancelled { get; } = [];

        public List<FaultEvent> Reports { get; } = [];

        public List<LinkFailed> Failures { get; } = [];

        public List<GrantCredit> Released { get; } = [];

        public void Transmit(LinkFrame frame, TimeSpan delay) => Frames.Add((frame, delay));

        public void StartAckTimer(long sequence, TimeSpan after) => Timers.Add((sequence, after));

        public void CancelAckTimer(long sequence) => Cancelled.Add(sequence);

        public void StartPartitionTimer(TimeSpan after)
        {
        }

        public void Report(FaultEvent observed) => Reports.Add(observed);

        public void Fail(LinkFailed failure) => Failures.Add(failure);

        public void ReleaseCredit(GrantCredit grant) => Released.Add(grant);
    }
}
