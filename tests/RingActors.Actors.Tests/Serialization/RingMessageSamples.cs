using Akka.Actor;
using RingActors.Actors.Faults;
using RingActors.Actors.Protocol;
using RingActors.Math;
using RingActors.Math.Masks;
using RingActors.Math.Modelling;
using static RingActors.Actors.Protocol.FaultProtocol;
using static RingActors.Actors.Protocol.GradientProtocol;
using static RingActors.Actors.Protocol.LinkProtocol;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors.Tests.Serialization;

/// <summary>Valid messages of the ring protocol for the serializer specs (round trips, the frame fuzzer).</summary>
public static class RingMessageSamples
{
    /// <summary>One sample of every message type (and a device setup), with odd sizes: 31 tokens, d = 5.</summary>
    public static object[] All(IActorRef actor)
    {
        var random = new Random(7);
        float[] F(int n) => Enumerable.Range(0, n).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        int[] P(int n) => Enumerable.Range(0, n).Select(i => (i * 3) + 1).ToArray();
        var stats = new DeviceStats(2, 31, 3, 1, 961, 19220, TimeSpan.FromTicks(123), TimeSpan.FromTicks(4), TimeSpan.FromTicks(56), 7440, 7440, 2, 2, 1, 99999, 2, 0, 0, TimeSpan.FromTicks(789), TimeSpan.FromTicks(700))
        {
            NetworkBytesSent = 9000,
            NetworkBytesToSuccessor = 7000,
            NetworkBytesToPredecessor = 500,
            NetworkBytesToSupervisor = 1500,
            StaleFramesRefused = 1,
            Retransmissions = 2,
            Epoch = 1,
            ContributionsSent = 2,
            ContributionsSummed = 3,
            ContributionDuplicates = 1,
            ContributionsRecomputed = 1,
        };
        var timeline = new DeviceTimeline(2, [new TimelineInterval(IntervalKind.Compute, 0.5, 1.25, 0), new TimelineInterval(IntervalKind.Idle, 1.25, 2, 1)], 0.75, 0.75, 0.1, 0.05, 2, 2);
        return
        [
            new AssignChunk("job-1", F(2 * 31 * 5), P(31), F(31 * 5), F(31 * 5), P(31), actor, ActorRefs.Nobody, actor),
            new StartRing("job-1"),
            new AcceptBlock("job-1", 1, 2, 3, 44, F(31 * 5), F(31 * 5), P(31), 1.5),
            new AcceptBlock("job-1", 0, 1, 0, 0, [], [], P(31)),
            new GrantCredit("job-1", 2, 0.25),
            new GrantCredit("job-1", 1),
            new GrantCredit("job-1", 1, Pass: RingPass.Backward),
            new BlockRefused("other", 1, 2, 3, "no credit"),
            new BlockComputed("job-1", 1, 2, 0, true, 123456789012),
            new BlockComputed("job-1", 1, 2, 0, false, 12, RingPass.Backward),
            new AcceptBlock("job-1", 1, 2, 3, 44, F(31 * 5), F(31 * 5), P(31), Pass: RingPass.Backward),
            new LinkHello("job-1", 2, 3, RingPass.Backward),
            new LinkResume("job-1", 1, 2, 5, [1, 2], RingPass.Backward),
            new StartBackward("job-1", F(2 * 31 * 5), [actor, ActorRefs.Nobody, actor], [0, 1, 0]),
            new RecoverBackward("job-1", F(2 * 31 * 5), P(31), F(2 * 31 * 5), F(2 * 31 * 5), F(2 * 31), [new KeyValueBlock(F(31 * 5), F(31 * 5), P(31)), new KeyValueBlock([], [], P(1))], [actor, actor], [1, 0], actor, ActorRefs.Nobody, actor),
            new RecomputeContribution("job-1", 2, 1, actor, new KeyValueBlock(F(15), F(15), P(3))),
            new Contribution("job-1", 1, 0, 2, 1, 9, F(31 * 5), F(31 * 5)),
            new Contribution("job-1", 3, 2, 0, 0, 0, [], []),
            new ContributionAck("job-1", 2, 1, 9, true),
            new GradientsCompleted("job-1", 2, F(2 * 31 * 5), F(31 * 5), F(31 * 5), stats, timeline),
            new ChunkCompleted("job-1", 2, F(2 * 31 * 5), F(2 * 31), stats, timeline, null),
            RunJob.Instance,
            CancelJob.Instance,
            new JobFailed("job-1", "device 1 failed at step 2", true),
            new LinkFrame("job-1", 1, 4, 2, 3, new AcceptBlock("job-1", 1, 2, 3, 4, F(10), F(10), P(2))),
            new LinkAck("job-1", 1, 0, 7, true),
            new LinkRefused("job-1", 1, 0, 7, "stale epoch"),
            new LinkHello("job-1", 2, 3),
            new LinkResume("job-1", 1, 2, 5, [1, 2]),
            new PartitionLink("job-1", "partition:1@2+1.5", true, false, TimeSpan.FromMilliseconds(1500)),
            new RecoverChunk("job-1", F(31 * 5), P(31), [new KeyValueBlock(F(15), F(15), P(3)), new KeyValueBlock([], [], P(1))], actor, ActorRefs.Nobody, actor),
            new DeviceKilled("job-1", 1, 2, 12345),
            new DeviceKilled("job-1", 2, 1, 12345, timeline),
            new LinkFailed("job-1", 1, 2, 0, 5, "no ack"),
            new FlushFaults("job-1"),
            new FaultsFlushed("job-1", 2),
            new SetupTaken("job-1", 2, true),
            new SetupTaken("job-1", 2, true, 987654321012),
            new FaultObserved("job-1", new FaultEvent("drop", "link 1", 1, 2, 3, "retransmitted", 1, 620)),
            new CrashOrder("crash-node:1@2"),
            new ProveMembership(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()),
            new MembershipProof(Enumerable.Range(0, 700).Select(i => (byte)(i * 7)).ToArray(), Enumerable.Range(0, 256).Select(i => (byte)(255 - i)).ToArray()),
            new DeviceSetup("job-1", 1, 3, 31, new AttentionHeads(1, 2, 1, 5), new AttentionOptions(true, PatternSpec.Parse("window:7", new PatternContext(31, 5, true)), 0.5f, 2))
            {
                PatternSpec = "window:7",
                PatternSeed = 5,
                Epoch = 1,
                Hooks = new DeviceHooks(TimeSpan.Zero, 1, 2, StopInsteadOfThrowing: true, SlowFactor: 3),
                Trial = 4,
                PartialPrecision = PartialPrecision.Bf16,
                Faults = FaultPlan.FromSpecs(["drop:0.25", "delay:5~2", "kill-device:1@2"], seed: 9) with { Retries = 3, AckTimeout = TimeSpan.FromMilliseconds(75), MaxRestarts = 2 },
            },
        ];
    }
}
