using RingActors.Actors.Faults;
using Xunit.Abstractions;
using static RingActors.Actors.Faults.FaultProtocol;
using static RingActors.Actors.RingProtocol;

namespace RingActors.Actors.Tests.Faults;

// serialize-messages off: the specs compare frames by reference (their arrays), and a round trip makes new ones.
public class FaultLinkSpec(ITestOutputHelper output) : RingTestKit(output, serializeMessages: false)
{
    private const string Job = "job-link";
    private const int P = 4;

    /// <summary>No faults and an acknowledgement timeout no test waits for: no retransmission interferes.</summary>
    private static readonly FaultPlan Patient = FaultPlan.None with { AckTimeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public void FaultLink_must_retransmit_until_acknowledged_and_then_stop()
    {
        var (link, sender, receiver, _) = Wire(FaultPlan.None with { AckTimeout = TimeSpan.FromMilliseconds(30) });

        link.Tell(HandOff(step: 1), sender.Ref);
        var first = receiver.ExpectMsg<LinkFrame>();
        var again = receiver.ExpectMsg<LinkFrame>();
        Assert.Equal((0L, 0), (first.Sequence, first.Epoch));
        Assert.Equal(first.Sequence, again.Sequence);

        link.Tell(new LinkAck(Job, 0, 0, 0, Duplicate: false), receiver.Ref);

        // Retransmissions already on their way when the acknowledgement landed may still arrive; after them, silence.
        receiver.ReceiveWhile(TimeSpan.FromMilliseconds(100), m => m as LinkFrame);
        receiver.ExpectNoMsg(TimeSpan.FromMilliseconds(150));
    }

    [Fact]
    public void FaultLink_must_tell_the_supervisor_when_retries_are_exhausted()
    {
        var (link, sender, receiver, supervisor) = Wire(FaultPlan.FromSpecs(["drop:1"]) with { Retries = 1, AckTimeout = TimeSpan.FromMilliseconds(20) });

        link.Tell(HandOff(step: 1), sender.Ref);

        var failed = supervisor.FishForMessage<LinkFailed>(_ => true);
        Assert.Equal((0, 1, 2), (failed.Link, failed.Step, failed.Attempts));
        Assert.Contains("drop:1: the hand-off of device 0's block from device 0 to device 1", failed.Reason, StringComparison.Ordinal);
        receiver.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public void FaultLink_must_pass_credits_back_and_resume_a_recreated_sender_with_what_is_left()
    {
        var (link, sender, receiver, _) = Wire(Patient);

        link.Tell(HandOff(step: 1), sender.Ref);
        receiver.ExpectMsg<LinkFrame>();
        link.Tell(new GrantCredit(Job, 2), receiver.Ref);
        Assert.Equal(2, sender.ExpectMsg<GrantCredit>().Credits);

        var newSender = CreateTestProbe();
        link.Tell(new SenderReplaced(newSender.Ref), TestActor);

        // 1 initial credit + 2 granted − 1 sent; the step-0 hand-off is taken (and still retransmitted by the link).
        var resume = newSender.ExpectMsg<LinkResume>();
        Assert.Equal(2, resume.Credits);
        Assert.Equal([0], resume.StepsSent);
    }

    [Fact]
    public void FaultLink_must_resend_unacknowledged_frames_to_a_recreated_receiver_with_its_epoch_and_free_the_sender()
    {
        var (link, sender, receiver, _) = Wire(Patient);
        link.Tell(HandOff(step: 1), sender.Ref);
        receiver.ExpectMsg<LinkFrame>();

        var newReceiver = CreateTestProbe();
        link.Tell(new ReceiverReplaced(newReceiver.Ref, 1), TestActor);

        var resent = newReceiver.ExpectMsg<LinkFrame>();
        Assert.Equal((0L, 1), (resent.Sequence, resent.Epoch));

        // The new incarnation has every block already: the sender may send all it has left (P − 1 in all, 1 granted so far).
        Assert.Equal(P - 2, sender.ExpectMsg<GrantCredit>().Credits);

        // An acknowledgement from the dead incarnation does not count; the new one's does.
        link.Tell(new LinkAck(Job, 0, 0, 0, Duplicate: false), receiver.Ref);
        link.Tell(new LinkAck(Job, 0, 1, 0, Duplicate: true), newReceiver.Ref);
        newReceiver.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void FaultLink_must_deliver_a_duplicate_twice_and_report_it_once_acknowledged()
    {
        var (link, sender, receiver, supervisor) = Wire(FaultPlan.FromSpecs(["duplicate:1"]) with { AckTimeout = Patient.AckTimeout });

        link.Tell(HandOff(step: 1), sender.Ref);
        var first = receiver.ExpectMsg<LinkFrame>();
        var copy = receiver.ExpectMsg<LinkFrame>();
        Assert.Equal(first, copy);
        link.Tell(new LinkAck(Job, 0, 0, 0, Duplicate: false), receiver.Ref);
        link.Tell(new LinkAck(Job, 0, 0, 0, Duplicate: true), receiver.Ref);

        var observed = supervisor.FishForMessage<FaultObserved>(_ => true).Event;
        Assert.Equal("duplicate:1", observed.Fault);
        Assert.Equal(HandOff(1).PayloadBytes, observed.ExtraBytes);
    }

    private (Akka.Actor.IActorRef Link, Akka.TestKit.TestProbe Sender, Akka.TestKit.TestProbe Receiver, Akka.TestKit.TestProbe Supervisor) Wire(FaultPlan plan)
    {
        var sender = CreateTestProbe();
        var receiver = CreateTestProbe();
        var supervisor = CreateTestProbe();
        var link = Sys.ActorOf(FaultLink.Props(Job, 0, P, 1, plan, 0, supervisor.Ref));
        link.Tell(new WireLink(sender.Ref, receiver.Ref, 0), TestActor);
        return (link, sender, receiver, supervisor);
    }

    private static AcceptBlock HandOff(int step) => new(Job, 0, step, 0, 0, new float[8], new float[8], [0]);
}
