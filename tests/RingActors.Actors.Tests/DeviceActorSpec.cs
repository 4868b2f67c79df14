using Akka.Actor;
using Akka.TestKit;
using RingActors.Actors.Devices;
using RingActors.Actors.Protocol;
using RingActors.Actors.Serialization;
using RingActors.Math;
using Xunit.Abstractions;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors.Tests;

public class DeviceActorSpec(ITestOutputHelper output) : RingTestKit(output)
{
    private const string Job = "job-7";

    [Fact]
    public void DeviceActor_must_hand_a_block_on_before_its_partial_result_exists_even_when_compute_is_slow()
    {
        // The successor and the supervisor are one probe, so the order in which the device sent to them is the order seen here.
        var ring = new Ring(this, devices: 3, device: 1, computeDelay: TimeSpan.FromMilliseconds(200));
        ring.Start();
        var own = ring.Downstream.ExpectMsg<AcceptBlock>();
        Assert.Equal((1, 1), (own.Origin, own.Step));

        // While the device computes its own block (slowly), the predecessor's block arrives and a credit with it.
        ring.Device.Tell(new GrantCredit(Job, 1), ring.Downstream.Ref);
        ring.Send(origin: 0, step: 1);
        var passed = ring.Downstream.ExpectMsg<AcceptBlock>();
        Assert.Equal((0, 2), (passed.Origin, passed.Step));
        Assert.Equal(0, ring.Downstream.ExpectMsg<BlockComputed>().Step); // the previous block's compute ends only after the hand-off

        ring.Upstream.ExpectMsg<GrantCredit>();
        ring.Send(origin: 2, step: 2);
        Assert.Equal(1, ring.Downstream.ExpectMsg<BlockComputed>().Step);
        Assert.Equal(2, ring.Downstream.ExpectMsg<BlockComputed>().Step);
        var completed = ring.Downstream.ExpectMsg<ChunkCompleted>();
        ring.AssertMatchesOracle(completed);
        Assert.Equal(2, completed.Stats.HandOffsSent);
    }

    [Fact]
    public void DeviceActor_must_hold_an_early_block_until_its_turn()
    {
        var ring = new Ring(this, devices: 4, device: 0, computeDelay: TimeSpan.FromMilliseconds(20));
        ring.Start();
        ring.Downstream.ExpectMsg<AcceptBlock>();
        Assert.Equal(0, ring.Downstream.ExpectMsg<BlockComputed>().Step);
        Assert.Equal(1, ring.Upstream.ExpectMsg<GrantCredit>().Credits); // own block released: the predecessor may send a second block

        ring.Device.Tell(new GrantCredit(Job, 2), ring.Downstream.Ref);
        ring.Send(origin: 2, step: 2); // early
        ring.Send(origin: 3, step: 1);
        var seen = ring.Downstream.ReceiveN(4).ToArray();
        Assert.Equal([1, 2], seen.OfType<BlockComputed>().Select(m => m.Step));
        Assert.Equal([(2, 3), (3, 2)], seen.OfType<AcceptBlock>().Select(m => (m.Origin, m.Step))); // handed on in arrival order

        ring.Upstream.ExpectMsg<GrantCredit>();
        ring.Send(origin: 1, step: 3);
        Assert.Equal(3, ring.Downstream.ExpectMsg<BlockComputed>().Step);
        ring.AssertMatchesOracle(ring.Downstream.ExpectMsg<ChunkCompleted>());
    }

    [Fact]
    public void DeviceActor_must_drop_a_duplicate_block()
    {
        var ring = new Ring(this, devices: 2, device: 0, computeDelay: TimeSpan.FromMilliseconds(100));
        ring.Start();
        ring.Downstream.ExpectMsg<AcceptBlock>();
        ring.Send(origin: 1, step: 1);
        ring.Send(origin: 1, step: 1);
        Assert.Equal(0, ring.Downstream.ExpectMsg<BlockComputed>().Step);
        Assert.Equal(1, ring.Downstream.ExpectMsg<BlockComputed>().Step);
        var completed = ring.Downstream.ExpectMsg<ChunkCompleted>();
        Assert.Equal(1, completed.Stats.DuplicatesDropped);
        Assert.Equal(2, completed.Stats.BlocksComputed);
        ring.AssertMatchesOracle(completed);
    }

    [Fact]
    public void DeviceActor_must_refuse_a_block_of_another_job_without_crashing()
    {
        var ring = new Ring(this, devices: 2, device: 0);
        ring.Device.Tell(ring.Block(origin: 1, step: 1) with { JobId = "stale-job" }, ring.Upstream.Ref); // before it even has a chunk
        Assert.Contains("stale-job", ring.Upstream.ExpectMsg<BlockRefused>().Reason, StringComparison.Ordinal);
        ring.Start();
        ring.Downstream.ExpectMsg<AcceptBlock>();
        ring.Device.Tell(ring.Block(origin: 1, step: 1) with { JobId = "stale-job" }, ring.Upstream.Ref);
        var refused = ring.Upstream.ExpectMsg<BlockRefused>();
        Assert.Equal(("stale-job", 0), (refused.JobId, refused.Device));

        ring.Send(origin: 1, step: 1);
        var completed = ring.Downstream.FishForMessage<ChunkCompleted>(_ => true);
        ring.AssertMatchesOracle(completed);
        Assert.Equal(1, completed.Stats.BlocksRefused);
    }

    [Fact]
    public void DeviceActor_must_log_a_refused_chunked_transfer_once_and_drop_it_without_restarting()
    {
        var ring = new Ring(this, devices: 2, device: 0);
        ring.Start();
        ring.Downstream.ExpectMsg<AcceptBlock>();

        // A transfer whose reassembled bytes are no message: refused when its last chunk arrives, once, then its stragglers
        // (a repeated chunk) are dropped without a word. Before, the refusal threw inside the device and restarted it.
        var garbage = Enumerable.Range(0, 250).Select(i => (byte)(i * 31)).ToArray();
        garbage[0] = RingMessageSerializer.FrameVersion;
        var chunks = new BlockChunker(100).Split(1, garbage);
        EventFilter.Warning(contains: "refused and dropped").ExpectOne(() =>
        {
            foreach (var chunk in chunks.Append(chunks[0]))
            {
                ring.Device.Tell(chunk, ring.Upstream.Ref);
            }
        });

        // Its state survived: the ring goes on and its result is exact.
        ring.Send(origin: 1, step: 1);
        var completed = ring.Downstream.FishForMessage<ChunkCompleted>(_ => true);
        ring.AssertMatchesOracle(completed);
        Assert.Equal(2, completed.Stats.BlocksComputed);
    }

    [Fact]
    public void DeviceActor_must_never_hand_on_more_blocks_than_it_has_credits()
    {
        var ring = new Ring(this, devices: 4, device: 0);
        ring.Start();
        ring.Downstream.ExpectMsg<AcceptBlock>(); // the one credit every device starts with
        ring.Send(origin: 3, step: 1);
        // No credit from the successor: both blocks are computed, the second is not handed on.
        Assert.Equal(0, ring.Downstream.ExpectMsg<BlockComputed>().Step);
        Assert.Equal(1, ring.Downstream.ExpectMsg<BlockComputed>().Step);
        Assert.Equal(1, ring.Upstream.ExpectMsg<GrantCredit>().Credits);
        ring.Send(origin: 2, step: 2);
        Assert.Equal(2, ring.Downstream.ExpectMsg<BlockComputed>().Step);

        // Two blocks are held, waiting for credits: one credit lets exactly one go, in order.
        ring.Device.Tell(new GrantCredit(Job, 1), ring.Downstream.Ref);
        var first = ring.Downstream.ExpectMsg<AcceptBlock>();
        Assert.Equal((3, 2), (first.Origin, first.Step));
        Assert.Equal(1, ring.Upstream.ExpectMsg<GrantCredit>().Credits);
        ring.Send(origin: 1, step: 3);
        Assert.Equal(3, ring.Downstream.ExpectMsg<BlockComputed>().Step);
        ring.Device.Tell(new GrantCredit(Job, 1), ring.Downstream.Ref);
        var second = ring.Downstream.ExpectMsg<AcceptBlock>();
        Assert.Equal((2, 3), (second.Origin, second.Step));
        var completed = ring.Downstream.ExpectMsg<ChunkCompleted>();
        Assert.Equal(2, completed.Stats.PeakBlocksHeld);
        Assert.Equal(2, completed.Stats.HandOffsDelayedByCredit);
        Assert.Equal(3, completed.Stats.HandOffsSent);
        ring.AssertMatchesOracle(completed);
    }

    [Fact]
    public void DeviceActor_must_drop_credits_and_blocks_from_anyone_but_its_neighbours()
    {
        var ring = new Ring(this, devices: 4, device: 0);
        var stranger = CreateTestProbe("stranger");
        ring.Start();
        ring.Downstream.ExpectMsg<AcceptBlock>();
        ring.Send(origin: 3, step: 1);
        Assert.Equal(0, ring.Downstream.ExpectMsg<BlockComputed>().Step);
        Assert.Equal(1, ring.Downstream.ExpectMsg<BlockComputed>().Step);
        Assert.Equal(1, ring.Upstream.ExpectMsg<GrantCredit>().Credits);
        ring.Send(origin: 2, step: 2);
        Assert.Equal(2, ring.Downstream.ExpectMsg<BlockComputed>().Step);

        // Two blocks wait for credits. A stranger's credits and a stranger's copy of the next block change nothing: one real
        // credit lets exactly one block go, and the real block that follows is merged, not dropped as a duplicate.
        stranger.Send(ring.Device, new GrantCredit(Job, 2));
        stranger.Send(ring.Device, ring.Block(origin: 1, step: 3));
        ring.Device.Tell(new GrantCredit(Job, 1), ring.Downstream.Ref);
        var first = ring.Downstream.ExpectMsg<AcceptBlock>();
        Assert.Equal((3, 2), (first.Origin, first.Step));
        ring.Upstream.ExpectMsg<GrantCredit>();
        ring.Send(origin: 1, step: 3);
        Assert.Equal(3, ring.Downstream.ExpectMsg<BlockComputed>().Step);
        ring.Device.Tell(new GrantCredit(Job, 1), ring.Downstream.Ref);
        var second = ring.Downstream.ExpectMsg<AcceptBlock>();
        Assert.Equal((2, 3), (second.Origin, second.Step));
        var completed = ring.Downstream.ExpectMsg<ChunkCompleted>();
        Assert.Equal(0, completed.Stats.DuplicatesDropped);
        Assert.Equal(3, completed.Stats.HandOffsSent);
        ring.AssertMatchesOracle(completed);
    }

    /// <summary>One device under test with probes as neighbours: Upstream is its predecessor, Downstream its successor and supervisor.</summary>
    private sealed class Ring
    {
        private readonly AttentionInput _input;
        private readonly SequenceLayout _layout;
        private readonly AttentionOptions _options = new(Causal: true);
        private readonly int _device;
        private long _sequence;

        public Ring(TestKitBase kit, int devices, int device, TimeSpan computeDelay = default)
        {
            var shape = new AttentionShape(2, 4, 2, 10 * devices + 1, 8);
            _input = AttentionInput.Random(shape, seed: 11 * devices + device);
            _layout = new SequenceLayout(LayoutKind.Zigzag, shape.SeqLen, devices);
            _device = device;
            Upstream = kit.CreateTestProbe("upstream");
            Downstream = kit.CreateTestProbe("downstream");
            var setup = new DeviceSetup(Job, device, devices, shape.SeqLen, AttentionHeads.Of(shape), _options)
            {
                Hooks = new DeviceHooks(computeDelay),
            };
            Device = kit.Sys.ActorOf(DeviceActor.Props(setup), $"device-{device}");
        }

        public IActorRef Device { get; }

        public TestProbe Upstream { get; }

        public TestProbe Downstream { get; }

        public void Start()
        {
            var chunk = _layout.QueryChunkOf(_input, _device);
            var block = _layout.KeyValueBlockOf(_input, _device);
            // From the supervisor the chunk names (Downstream): a device takes orders from nobody else.
            Device.Tell(new AssignChunk(Job, chunk.Data, chunk.Positions, block.Keys, block.Values, block.Positions, Upstream.Ref, Downstream.Ref, Downstream.Ref), Downstream.Ref);
            Device.Tell(new StartRing(Job), Downstream.Ref);
            // Each setup message is acknowledged (the supervisor's watchdog sends again what is not).
            Assert.False(Downstream.ExpectMsg<SetupTaken>().Started);
            Assert.True(Downstream.ExpectMsg<SetupTaken>().Started);
        }

        public AcceptBlock Block(int origin, int step)
        {
            var block = _layout.KeyValueBlockOf(_input, origin);
            return new AcceptBlock(Job, origin, step, _sequence++, System.Diagnostics.Stopwatch.GetTimestamp(), block.Keys, block.Values, block.Positions);
        }

        public void Send(int origin, int step) => Device.Tell(Block(origin, step), Upstream.Ref);

        public void AssertMatchesOracle(ChunkCompleted completed)
        {
            var expected = OracleRows(_input, _options, _layout.Positions(_device));
            var error = ErrorMetrics.Compare(completed.Output, expected);
            Assert.True(error.RelativeError < 1e-5, $"relative error {error.RelativeError}");
        }
    }
}
