using RingActors.Actors.Devices;
using RingActors.Actors.Faults;
using RingActors.Actors.Protocol;
using RingActors.Math;
using Xunit.Abstractions;
using static RingActors.Actors.Protocol.LinkProtocol;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors.Tests.Faults;

public class FaultRingSpec(ITestOutputHelper output) : RingTestKit(output)
{
    private static readonly TimeSpan ShortTimeout = TimeSpan.FromMilliseconds(40);

    public static TheoryData<string, int, LayoutKind> SingleProcessFaults() => new()
    {
        { "drop:0.3", 4, LayoutKind.Zigzag },
        { "drop:0.6@2", 3, LayoutKind.Contiguous },
        { "delay:3~2", 4, LayoutKind.Striped },
        { "duplicate:0.5", 4, LayoutKind.Zigzag },
        { "slow-device:1*3", 3, LayoutKind.Zigzag },
        { "kill-device:1@2", 4, LayoutKind.Zigzag },
        { "kill-device:0@0", 3, LayoutKind.Contiguous },
        { "kill-device:3@3", 4, LayoutKind.Striped },
        { "kill-device:0@0", 1, LayoutKind.Zigzag },
        { "kill-device:?@?", 4, LayoutKind.Zigzag },
        { "kill-device:1@1,kill-device:2@1,drop:0.2", 4, LayoutKind.Contiguous },
    };

    [Theory]
    [MemberData(nameof(SingleProcessFaults))]
    public async Task FaultRing_must_equal_the_oracle_after_recovering_from(string fault, int devices, LayoutKind layout)
    {
        var shape = new AttentionShape(2, 4, 2, 61, 8);
        var input = AttentionInput.Random(shape, seed: devices + fault.Length);
        var plan = FaultPlan.FromSpecs(fault.Split(','), seed: 3) with { AckTimeout = ShortTimeout, Retries = 20 };
        var settings = new RingJobSettings(devices, layout, Causal: true) { Faults = plan };

        var result = await RingRunner.RunAsync(Sys, input, settings);

        AssertExact(input, settings, result);
        AwaitAssert(() => AssertComputeGateIsWhole(), TimeSpan.FromSeconds(5));
        var record = Assert.Single(result.Faults!.Records, r => r.Fault == plan.Faults[0].ToString());
        if (fault.StartsWith("kill", StringComparison.Ordinal))
        {
            Assert.Equal(1, record.Occurrences);
            Assert.Equal(plan.Faults.Count(f => f is FaultSpec.KillDevice), result.Faults.Restarts);
            Assert.NotNull(record.WorstTimeToRecover);
            Assert.Contains("re-created with its chunk and blocks from the supervisor", record.Recovery, StringComparison.Ordinal);
        }
        else if (!fault.StartsWith("slow", StringComparison.Ordinal))
        {
            Assert.True(record.Occurrences > 0, $"{fault} never struck in {record}");
        }
    }

    /// <summary>No slot of the compute gate is left taken or waited for by a killed, restarted or finished device.</summary>
    private void AssertComputeGateIsWhole()
    {
        var gate = ComputeGates.Get(Sys).For(Configuration.RingActorsSettings.DefaultComputeDispatcher)!;
        Assert.Equal((gate.Slots, 0), (gate.Free, gate.Waiting));
    }

    [Fact]
    public async Task FaultRing_must_draw_a_killed_devices_work_before_its_successors_on_its_track()
    {
        var input = AttentionInput.Random(new AttentionShape(1, 2, 1, 64, 8), seed: 12);
        var plan = FaultPlan.FromSpecs(["kill-device:1@2"], seed: 3) with { AckTimeout = ShortTimeout, Retries = 20 };
        var settings = new RingJobSettings(4, LayoutKind.Contiguous, Causal: false) { Faults = plan };

        var result = await RingRunner.RunAsync(Sys, input, settings);

        AssertExact(input, settings, result);
        var killedAt = Assert.Single(result.Faults!.Records).FirstInjected!.Value.TotalSeconds;
        var computes = result.MeasuredTimeline!.Devices[1].Intervals.Where(i => i.Kind == Math.Modelling.IntervalKind.Compute).ToList();

        // Steps 0 and 1 of the lost incarnation, up to the kill; then all four steps of its successor, after it.
        Assert.Equal([0, 1], computes.Where(i => i.End <= killedAt).Select(i => i.Step));
        Assert.Equal([0, 1, 2, 3], computes.Where(i => i.Start >= killedAt).Select(i => i.Step));
    }

    [Fact]
    public async Task FaultRing_must_recover_from_every_single_process_fault_at_once()
    {
        var shape = new AttentionShape(1, 2, 1, 257, 8);
        var input = AttentionInput.Random(shape, seed: 11);
        var plan = FaultPlan.Load(Path.Combine(FaultPlanSpecRoot(), "hocon", "faults", "mixed.conf")) with { AckTimeout = ShortTimeout, Retries = 20 };
        var settings = new RingJobSettings(4, LayoutKind.Zigzag, Causal: false) { Faults = plan };

        var result = await RingRunner.RunAsync(Sys, input, settings);

        AssertExact(input, settings, result);
        Assert.Equal(1, result.Faults!.Restarts);
    }

    [Fact]
    public async Task FaultRing_must_fail_an_unrecoverable_plan_within_its_deadline_naming_the_fault()
    {
        var input = AttentionInput.Random(new AttentionShape(1, 2, 1, 31, 8), seed: 5);
        var plan = FaultPlan.FromSpecs(["drop:1"]) with { Retries = 2, AckTimeout = TimeSpan.FromMilliseconds(20) };
        var settings = new RingJobSettings(3, Deadline: TimeSpan.FromSeconds(20)) { Faults = plan };

        var error = await Assert.ThrowsAsync<RingJobException>(() => RingRunner.RunAsync(Sys, input, settings));

        Assert.Contains("drop:1: the hand-off of device", error.Reason, StringComparison.Ordinal);
        Assert.Contains("went unacknowledged 3 times; retries (2) exhausted", error.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Reason);
    }

    [Fact]
    public async Task FaultRing_must_fail_at_the_deadline_naming_the_faults()
    {
        var input = AttentionInput.Random(new AttentionShape(1, 2, 1, 31, 8), seed: 5);
        var plan = FaultPlan.FromSpecs(["delay:2000"]);
        var settings = new RingJobSettings(3, Deadline: TimeSpan.FromMilliseconds(200)) { Faults = plan };

        var error = await Assert.ThrowsAsync<RingJobException>(() => RingRunner.RunAsync(Sys, input, settings));

        Assert.StartsWith("not finished after 00:00:00.2", error.Reason, StringComparison.Ordinal);
        Assert.EndsWith("(faults: delay:2000; 0 devices re-created)", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FaultRing_must_recreate_a_device_whose_kernel_throws()
    {
        var input = AttentionInput.Random(new AttentionShape(1, 2, 1, 61, 8), seed: 8);
        var settings = new RingJobSettings(3, LayoutKind.Striped)
        {
            Faults = FaultPlan.None,
            Hooks = new DeviceHooks(TimeSpan.Zero, FailingDevice: 2, FailAtStep: 1),
        };

        var result = await RingRunner.RunAsync(Sys, input, settings);

        AssertExact(input, settings, result);
        Assert.Equal(1, result.Faults!.Restarts);
        Assert.Contains(result.Faults.Records, r => r.Fault == "crash of device 2" && r.Occurrences == 1);
    }

    [Fact]
    public async Task FaultRing_must_fail_when_restarts_are_exhausted()
    {
        var input = AttentionInput.Random(new AttentionShape(1, 2, 1, 31, 8), seed: 5);
        var plan = FaultPlan.FromSpecs(["kill-device:1@1"]) with { MaxRestarts = 0 };
        var settings = new RingJobSettings(3) { Faults = plan };

        var error = await Assert.ThrowsAsync<RingJobException>(() => RingRunner.RunAsync(Sys, input, settings));

        Assert.Contains("max-restarts (0) reached (kill-device:1@1)", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FaultRing_must_keep_the_supervisor_state_of_every_other_device_across_a_restart()
    {
        var shape = new AttentionShape(1, 4, 2, 61, 8);
        var input = AttentionInput.Random(shape, seed: 9);
        const int P = 4;
        var plan = FaultPlan.FromSpecs(["kill-device:2@2"]);
        var settings = new RingJobSettings(P, LayoutKind.Contiguous) { Faults = plan };
        var progress = new List<RingProgress>();

        var result = await RingRunner.RunAsync(Sys, input, settings, new SynchronousProgress(progress));

        AssertExact(input, settings, result);
        Assert.Equal(Enumerable.Range(0, P), result.Devices.Select(d => d.Device));
        Assert.All(result.Devices.Where(d => d.Device != 2), d =>
        {
            // Nothing of the survivors was redone: each merged P blocks once and received P − 1.
            Assert.Equal(P, d.BlocksComputed + d.BlocksSkipped);
            Assert.Equal(P - 1, d.HandOffsReceived);

            // Device 2's predecessor stops handing on once the re-created device 2 says it holds every step; the others hand on P − 1.
            Assert.InRange(d.HandOffsSent, d.Device == 1 ? 1 : P - 1, P - 1);
        });
        var recovered = result.Devices[2];
        Assert.Equal(P, recovered.BlocksComputed + recovered.BlocksSkipped);
        Assert.Equal(recovered.PairsComputed, result.Faults!.PairsRecomputed);
        Assert.Equal(1, result.Faults.Restarts);
        Assert.Equal(P * P, progress[^1].BlocksDone);
        Assert.Equal(P, progress[^1].DevicesDone);
    }

    [Fact]
    public void DeviceActor_must_recover_in_recovery_mode_announce_itself_and_resume_only_what_its_successor_lacks()
    {
        var shape = new AttentionShape(1, 2, 1, 31, 8);
        var input = AttentionInput.Random(shape, seed: 2);
        const int P = 3;
        var layout = new SequenceLayout(LayoutKind.Contiguous, shape.SeqLen, P);
        var setup = new DeviceSetup("job-stale", 1, P, shape.SeqLen, AttentionHeads.Of(shape), new AttentionOptions(false, null, null, 1))
        {
            Epoch = 1,
            Faults = FaultPlan.None with { AckTimeout = TimeSpan.FromSeconds(30) },
        };
        var predecessor = CreateTestProbe();
        var successor = CreateTestProbe();
        var supervisor = CreateTestProbe();
        var device = Sys.ActorOf(DeviceActor.Props(setup));
        var topology = new RingTopology(P);
        var chunk = layout.QueryChunkOf(input, 1);
        var blocks = Enumerable.Range(0, P).Select(s => layout.KeyValueBlockOf(input, topology.OriginAt(1, s))).ToList();
        device.Tell(new RecoverChunk("job-stale", chunk.Data, chunk.Positions, blocks, predecessor.Ref, successor.Ref, supervisor.Ref), supervisor.Ref);

        // It tells its successor it is the link's new sender, and its predecessor it needs nothing more.
        Assert.Equal(1, successor.ExpectMsg<LinkHello>().SenderEpoch);
        var toPredecessor = predecessor.ExpectMsg<LinkResume>();
        Assert.Equal((1, 0), (toPredecessor.ReceiverEpoch, toPredecessor.Link));
        Assert.Equal([1, 2], toPredecessor.StepsHeld);

        var stale = blocks[1];
        var block = new AcceptBlock("job-stale", 0, 1, 0, 0, stale.Keys, stale.Values, stale.Positions);
        device.Tell(new LinkFrame("job-stale", 0, 0, 0, 0, block), predecessor.Ref);
        var refused = predecessor.ExpectMsg<LinkRefused>();
        Assert.Contains("device 1 is at epoch 1", refused.Reason, StringComparison.Ordinal);

        device.Tell(new LinkFrame("job-stale", 0, 0, 1, 0, block), predecessor.Ref);
        Assert.Equal(0, predecessor.ExpectMsg<LinkAck>().Sequence);

        // The successor holds its step 1 already: only the block of this device's step 1 (the successor's step 2) goes out.
        device.Tell(new LinkResume("job-stale", 1, 0, 1, [1]), successor.Ref);
        var resent = successor.ExpectMsg<LinkFrame>();
        Assert.Equal((1, 2), (resent.SenderEpoch, resent.Block.Step));
        Assert.Equal(topology.OriginAt(1, 1), resent.Block.Origin);
        var completed = supervisor.FishForMessage<ChunkCompleted>(_ => true, TimeSpan.FromSeconds(10));
        Assert.Equal(P, completed.Stats.BlocksComputed + completed.Stats.BlocksSkipped);
        Assert.Equal(1, completed.Stats.StaleFramesRefused);
        Assert.Equal(1, completed.Stats.HandOffsSent);
        var expected = OracleRows(input, setup.Options, chunk.Positions);
        Assert.True(ErrorMetrics.Compare(completed.Output, expected).RelativeError < 1e-5);
    }

    [Fact]
    public void DeviceActor_must_acknowledge_frames_drop_repeats_and_refuse_stale_epochs()
    {
        var shape = new AttentionShape(1, 2, 1, 31, 8);
        var input = AttentionInput.Random(shape, seed: 4);
        const int P = 2;
        var layout = new SequenceLayout(LayoutKind.Contiguous, shape.SeqLen, P);
        var setup = new DeviceSetup("job-frames", 1, P, shape.SeqLen, AttentionHeads.Of(shape), new AttentionOptions(false, null, null, 1))
        {
            Faults = FaultPlan.None with { AckTimeout = TimeSpan.FromSeconds(30) },
        };
        var link = CreateTestProbe();
        var supervisor = CreateTestProbe();
        var device = Sys.ActorOf(DeviceActor.Props(setup));
        var own = layout.KeyValueBlockOf(input, 1);
        var chunk = layout.QueryChunkOf(input, 1);
        device.Tell(new AssignChunk("job-frames", chunk.Data, chunk.Positions, own.Keys, own.Values, own.Positions, link.Ref, link.Ref, supervisor.Ref), supervisor.Ref);
        device.Tell(new StartRing("job-frames"), supervisor.Ref);
        link.ExpectMsg<LinkFrame>();

        var other = layout.KeyValueBlockOf(input, 0);
        var frame = new LinkFrame("job-frames", 0, 0, 0, 0, new AcceptBlock("job-frames", 0, 1, 0, 0, other.Keys, other.Values, other.Positions));
        device.Tell(frame with { ReceiverEpoch = 3 }, link.Ref);
        Assert.Contains("stale", link.FishForMessage<LinkRefused>(_ => true).Reason, StringComparison.Ordinal);
        device.Tell(frame, link.Ref);
        device.Tell(frame, link.Ref);
        Assert.False(link.FishForMessage<LinkAck>(_ => true).Duplicate);
        Assert.True(link.FishForMessage<LinkAck>(_ => true).Duplicate);
        var completed = supervisor.FishForMessage<ChunkCompleted>(_ => true, TimeSpan.FromSeconds(10));
        Assert.Equal(1, completed.Stats.DuplicatesDropped);
        Assert.Equal(1, completed.Stats.HandOffsReceived);
    }

    [Fact]
    public void DeviceActor_must_ask_its_successor_again_when_a_credit_is_lost_and_resume_from_its_answer()
    {
        var shape = new AttentionShape(1, 2, 1, 31, 8);
        var input = AttentionInput.Random(shape, seed: 6);
        const int P = 3;
        var layout = new SequenceLayout(LayoutKind.Contiguous, shape.SeqLen, P);
        var setup = new DeviceSetup("job-probe", 1, P, shape.SeqLen, AttentionHeads.Of(shape), new AttentionOptions(false, null, null, 1))
        {
            Faults = FaultPlan.None with { AckTimeout = TimeSpan.FromMilliseconds(100) },
        };
        var predecessor = CreateTestProbe();
        var successor = CreateTestProbe();
        var supervisor = CreateTestProbe();
        var device = Sys.ActorOf(DeviceActor.Props(setup));
        var own = layout.KeyValueBlockOf(input, 1);
        var chunk = layout.QueryChunkOf(input, 1);
        device.Tell(new AssignChunk("job-probe", chunk.Data, chunk.Positions, own.Keys, own.Values, own.Positions, predecessor.Ref, successor.Ref, supervisor.Ref), supervisor.Ref);
        device.Tell(new StartRing("job-probe"), supervisor.Ref);

        // The own block goes on the initial credit and is acknowledged; the predecessor's block then waits for a credit
        // that (as if lost) never comes.
        var first = successor.ExpectMsg<LinkFrame>();
        device.Tell(new LinkAck("job-probe", 1, 0, first.Sequence, false), successor.Ref);
        var other = layout.KeyValueBlockOf(input, 0);
        device.Tell(new LinkFrame("job-probe", 0, 0, 0, 0, new AcceptBlock("job-probe", 0, 1, 0, 0, other.Keys, other.Values, other.Positions)), predecessor.Ref);

        // The device asks where it stands; the successor's answer gives the credit back, and the block goes.
        var probe = successor.ExpectMsg<LinkHello>(TimeSpan.FromSeconds(5));
        Assert.Equal((1, 0), (probe.Link, probe.SenderEpoch));
        device.Tell(new LinkResume("job-probe", 1, 0, 1, [1]), successor.Ref);
        var second = successor.ExpectMsg<LinkFrame>();
        Assert.Equal((2, 0), (second.Block.Step, second.Block.Origin));
    }

    private static void AssertExact(AttentionInput input, RingJobSettings settings, RingResult result)
    {
        var (expected, _) = ReferenceAttention.Compute(input, settings.OptionsFor(1));
        var error = ErrorMetrics.Compare(result.Output, expected);
        Assert.True(error.RelativeError < 1e-5, $"relative error {error.RelativeError}");
        var dense = DenseAttention.Compute(input, settings.OptionsFor(1));
        Assert.True(ErrorMetrics.Compare(result.Output, dense.Output).RelativeError < 1e-5);
    }

    private static string FaultPlanSpecRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RingActors.sln")))
        {
            dir = dir.Parent;
        }

        return dir!.FullName;
    }

    private sealed class SynchronousProgress(List<RingProgress> into) : IProgress<RingProgress>
    {
        public void Report(RingProgress value)
        {
            lock (into)
            {
                into.Add(value);
            }
        }
    }
}
