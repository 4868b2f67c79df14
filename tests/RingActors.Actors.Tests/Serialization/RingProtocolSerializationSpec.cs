using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using RingActors.Actors.Configuration;
using RingActors.Actors.Faults;
using RingActors.Actors.Protocol;
using RingActors.Actors.Serialization;
using RingActors.Math;
using RingActors.Math.Masks;
using RingActors.Math.Modelling;
using static RingActors.Actors.Protocol.FaultProtocol;
using static RingActors.Actors.Protocol.LinkProtocol;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors.Tests.Serialization;

/// <summary>
/// Every message of the ring protocol: bound to <see cref="RingMessageSerializer"/>, round-tripped with its contents compared
/// field by field (arrays element by element), the size hint exact; and malformed frames of every message refused with a
/// <see cref="SerializationException"/> only.
/// </summary>
public class RingProtocolSerializationSpec() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString("akka.actor.provider = remote\nakka.remote.dot-netty.tcp.port = 0").WithFallback(ClusterDefaults.NodeDefaults))
{
    private RingMessageSerializer Serializer => Assert.IsType<RingMessageSerializer>(Sys.Serialization.FindSerializerFor(StartRing()));

    private static StartRing StartRing() => new("job-1");

    /// <summary>One sample of every message type (and a device setup), with odd sizes: 31 tokens, d = 5.</summary>
    private object[] Samples()
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
        };
        var timeline = new DeviceTimeline(2, [new TimelineInterval(IntervalKind.Compute, 0.5, 1.25, 0), new TimelineInterval(IntervalKind.Idle, 1.25, 2, 1)], 0.75, 0.75, 0.1, 0.05, 2, 2);
        return
        [
            new AssignChunk("job-1", F(2 * 31 * 5), P(31), F(31 * 5), F(31 * 5), P(31), TestActor, ActorRefs.Nobody, TestActor),
            StartRing(),
            new AcceptBlock("job-1", 1, 2, 3, 44, F(31 * 5), F(31 * 5), P(31), 1.5),
            new AcceptBlock("job-1", 0, 1, 0, 0, [], [], P(31)),
            new GrantCredit("job-1", 2, 0.25),
            new GrantCredit("job-1", 1),
            new BlockRefused("other", 1, 2, 3, "no credit"),
            new BlockComputed("job-1", 1, 2, 0, true, 123456789012),
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
            new RecoverChunk("job-1", F(31 * 5), P(31), [new KeyValueBlock(F(15), F(15), P(3)), new KeyValueBlock([], [], P(1))], TestActor, ActorRefs.Nobody, TestActor),
            new DeviceKilled("job-1", 1, 2, 12345),
            new LinkFailed("job-1", 1, 2, 0, 5, "no ack"),
            new FlushFaults("job-1"),
            new FaultsFlushed("job-1", 2),
            new FaultObserved("job-1", new FaultEvent("drop", "link 1", 1, 2, 3, "retransmitted", 1, 620)),
            new CrashOrder("crash-node:1@2"),
            new DeviceSetup("job-1", 1, 3, 31, new AttentionHeads(1, 2, 1, 5), new AttentionOptions(true, PatternSpec.Parse("window:7", new PatternContext(31, 5, true)), 0.5f, 2))
            {
                PatternSpec = "window:7",
                PatternSeed = 5,
                Epoch = 1,
                Hooks = new DeviceHooks(TimeSpan.Zero, 1, 2, StopInsteadOfThrowing: true, SlowFactor: 3),
                Trial = 4,
                Faults = FaultPlan.FromSpecs(["drop:0.25", "delay:5~2", "kill-device:1@2"], seed: 9) with { Retries = 3, AckTimeout = TimeSpan.FromMilliseconds(75), MaxRestarts = 2 },
            },
        ];
    }

    [Fact]
    public void Serialization_must_bind_every_ring_message_to_the_ring_serializer_with_a_short_manifest()
    {
        var manifests = new HashSet<string>();
        foreach (var message in Samples())
        {
            var serializer = Assert.IsType<RingMessageSerializer>(Sys.Serialization.FindSerializerFor(message));
            var manifest = serializer.Manifest(message);
            Assert.InRange(manifest.Length, 1, 4);
            manifests.Add(manifest);
        }

        var types = typeof(IRingMessage).Assembly.GetTypes().Where(t => typeof(IRingMessage).IsAssignableFrom(t) && !t.IsInterface).ToList();
        var sampled = Samples().Select(m => m.GetType()).ToHashSet();
        Assert.Empty(types.Where(t => !sampled.Contains(t) && t != typeof(JobCompleted)).Select(t => t.Name));
        Assert.True(typeof(INoSerializationVerificationNeeded).IsAssignableFrom(typeof(JobCompleted)));
    }

    [Fact]
    public void RingMessageSerializer_must_round_trip_every_message_with_equal_contents_and_an_exact_size_hint()
    {
        var serializer = Serializer;
        foreach (var message in Samples())
        {
            var bytes = serializer.ToBinary(message);
            Assert.Equal(RingMessageSerializer.FrameVersion, bytes[0]);
            Assert.Equal(bytes.Length, serializer.FrameSize(message));
            var back = serializer.FromBinary(bytes, serializer.Manifest(message));
            Assert.Equal(message.GetType(), back.GetType());
            AssertSameContents(message, back);
        }
    }

    [Fact]
    public void A_device_setup_must_re_parse_its_pattern_spec_and_refuse_a_pattern_without_one()
    {
        var serializer = Serializer;
        var setup = Assert.IsType<DeviceSetup>(Samples()[^1]);
        var back = Assert.IsType<DeviceSetup>(serializer.FromBinary(serializer.ToBinary(setup), "DS"));
        Assert.Equal("window:7", back.Options.Pattern!.Name);
        var mask = back.Options.MaskFor(0, 0)!;
        Assert.True(mask.Allows(10, 8));
        Assert.False(mask.Allows(10, 2));

        var bare = setup with { PatternSpec = null };
        Assert.Contains("pattern object cannot travel", Assert.Throws<SerializationException>(() => serializer.ToBinary(bare)).Message);
    }

    [Theory]
    [InlineData("bigbird:1:0:0")]
    [InlineData("random:64")]
    [InlineData("global:0-2147483646")]
    [InlineData("union:window:4+bigbird:2")]
    public void A_device_setup_must_refuse_a_pattern_too_costly_for_its_sequence_length_before_building_it(string spec)
    {
        // Over int.MaxValue tokens: bigbird:1 alone would ask for 2⁶² flags, random:64 for 2³⁷ keys (an OverflowException before).
        var frame = Serializer.ToBinary(Setup() with { SeqLen = int.MaxValue, PatternSpec = spec });
        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Record.Exception(() => Serializer.FromBinary(frame, "DS"));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("ring-actors.transport.max-pattern-bytes", Assert.IsType<SerializationException>(error).Message);
        Assert.True(allocated < 64 * 1024, $"refusing '{spec}' allocated {allocated} bytes");
    }

    [Fact]
    public void A_device_setup_must_take_a_cheap_pattern_whatever_its_sequence_length()
    {
        var back = Assert.IsType<DeviceSetup>(Serializer.FromBinary(Serializer.ToBinary(Setup() with { SeqLen = int.MaxValue }), "DS"));
        Assert.Equal((int.MaxValue, "window:7"), (back.SeqLen, back.Options.Pattern!.Name));
    }

    [Fact]
    public void A_device_setup_must_never_carry_a_pattern_that_reads_a_file()
    {
        var setup = Setup();
        var written = Assert.Throws<SerializationException>(() => Serializer.ToBinary(setup with { PatternSpec = "block:8:layout.txt" }));
        Assert.Contains("reads its layout from a file", written.Message);

        // Forged on the wire: the receiving node must not open a path a peer names.
        var frame = WithString(Serializer.ToBinary(setup), "window:7", "union:window:3+block:4:/dev/zero");
        Assert.Contains("names a layout file", Assert.Throws<SerializationException>(() => Serializer.FromBinary(frame, "DS")).Message);
    }

    [Fact]
    public void A_device_setup_must_keep_its_failing_device_and_step_within_its_own_device_count()
    {
        var setup = Setup();
        foreach (var hooks in new[] { setup.Hooks with { FailingDevice = setup.Devices }, setup.Hooks with { FailAtStep = setup.Devices } })
        {
            var error = Assert.Throws<SerializationException>(() => Serializer.FromBinary(Serializer.ToBinary(setup with { Hooks = hooks }), "DS"));
            Assert.Contains($"must be in [-1, {setup.Devices - 1}], got {setup.Devices}", error.Message);
        }
    }

    [Fact]
    public void A_chunk_result_must_carry_only_its_own_device_timeline()
    {
        var result = Assert.Single(Samples().OfType<ChunkCompleted>());
        var foreign = result with { MeasuredTimeline = result.MeasuredTimeline! with { Device = result.Device + 1 } };
        var error = Assert.Throws<SerializationException>(() => Serializer.FromBinary(Serializer.ToBinary(foreign), "CC"));
        Assert.Contains($"timeline of device {result.Device + 1} in the result of device {result.Device}", error.Message);
    }

    [Fact]
    public void RingMessageSerializer_must_refuse_inconsistent_dimensions()
    {
        var serializer = Serializer;
        var bad = new AcceptBlock("job-1", 0, 1, 0, 0, new float[10], new float[12], [0, 1]);
        Assert.Contains("values", Assert.Throws<SerializationException>(() => serializer.FromBinary(serializer.ToBinary(bad), "AB")).Message);
        var ragged = new AcceptBlock("job-1", 0, 1, 0, 0, new float[10], new float[10], [0, 1, 2]);
        Assert.Contains("not a whole", Assert.Throws<SerializationException>(() => serializer.FromBinary(serializer.ToBinary(ragged), "AB")).Message);
        var negative = new AcceptBlock("job-1", -1, 1, 0, 0, [], [], [0]);
        Assert.Contains("origin", Assert.Throws<SerializationException>(() => serializer.FromBinary(serializer.ToBinary(negative), "AB")).Message);
        var longId = new StartRing(new string('j', RingMessageSerializer.MaxJobIdBytes + 1));
        Assert.Contains("job id", Assert.Throws<SerializationException>(() => serializer.FromBinary(serializer.ToBinary(longId), "SR")).Message);
    }

    [Fact]
    public void RingMessageSerializer_must_refuse_random_truncated_and_flipped_frames_of_every_message_with_serialization_exceptions_only()
    {
        var serializer = Serializer;
        var random = new Random(4111);
        var samples = Samples();
        var frames = samples.Select(m => (Manifest: serializer.Manifest(m), Bytes: serializer.ToBinary(m))).ToArray();
        var cap = serializer.Settings.MaxMessageBytes;
        var refused = 0;
        for (var trial = 0; trial < 8000; trial++)
        {
            var (manifest, original) = frames[trial % frames.Length];
            var frame = (trial / frames.Length % 3) switch
            {
                0 => original[..random.Next(0, original.Length)],
                1 => Flip(original, random),
                _ => RandomBytes(random, random.Next(0, 200)),
            };
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                serializer.FromBinary(frame, manifest);
            }
            catch (SerializationException)
            {
                refused++;
            }

            // Decoding may allocate what the frame holds (strings twice), never what a forged length claims.
            Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, (4L * frame.Length) + (64 * 1024));
            Assert.True(frame.Length <= cap);
        }

        Assert.True(refused > 4000, $"only {refused} of 8000 malformed frames were refused");
    }

    private static byte[] Flip(byte[] original, Random random)
    {
        var copy = (byte[])original.Clone();
        for (var flips = random.Next(1, 4); flips > 0; flips--)
        {
            var i = random.Next(copy.Length);
            copy[i] ^= (byte)(1 << random.Next(8));
        }

        return copy;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        if (length > 0)
        {
            bytes[0] = RingMessageSerializer.FrameVersion;
        }

        return bytes;
    }

    private DeviceSetup Setup() => Assert.Single(Samples().OfType<DeviceSetup>());

    /// <summary><paramref name="frame"/> with the (length-prefixed) string <paramref name="from"/> replaced by <paramref name="to"/>.</summary>
    private static byte[] WithString(byte[] frame, string from, string to)
    {
        static byte[] Prefixed(string value)
        {
            var writer = new FrameWriter(0);
            writer.WriteString(value);
            return writer.WrittenSpan[1..].ToArray();
        }

        var (old, replacement) = (Prefixed(from), Prefixed(to));
        var at = frame.AsSpan().IndexOf(old);
        Assert.True(at > 0, $"'{from}' is not in the frame");
        return [.. frame[..at], .. replacement, .. frame[(at + old.Length)..]];
    }

    /// <summary>Compares public properties recursively: arrays and lists element by element, actor refs by path.</summary>
    private static void AssertSameContents(object? expected, object? actual, string path = "")
    {
        switch (expected)
        {
            case null:
                Assert.Null(actual);
                return;
            case string or int or long or bool or double or float or TimeSpan or Enum:
                Assert.True(Equals(expected, actual), $"{path}: expected {expected}, got {actual}");
                return;
            case IActorRef actor:
                Assert.Equal(actor.Path.ToStringWithoutAddress(), Assert.IsAssignableFrom<IActorRef>(actual).Path.ToStringWithoutAddress());
                return;
            case AttentionPattern pattern:
                Assert.Equal(pattern.Name, Assert.IsAssignableFrom<AttentionPattern>(actual).Name);
                return;
            case System.Collections.IEnumerable sequence:
                var left = sequence.Cast<object?>().ToList();
                var right = Assert.IsAssignableFrom<System.Collections.IEnumerable>(actual).Cast<object?>().ToList();
                Assert.True(left.Count == right.Count, $"{path}: {left.Count} elements, got {right.Count}");
                for (var i = 0; i < left.Count; i++)
                {
                    AssertSameContents(left[i], right[i], $"{path}[{i}]");
                }

                return;
        }

        Assert.NotNull(actual);
        foreach (var property in expected.GetType().GetProperties().Where(p => p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract"))
        {
            if (property.PropertyType == typeof(RingTopology) || property.Name == "Hooks")
            {
                continue;
            }

            AssertSameContents(property.GetValue(expected), property.GetValue(actual), $"{path}.{property.Name}");
        }
    }
}
