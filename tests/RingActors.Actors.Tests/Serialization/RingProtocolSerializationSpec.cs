using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using RingActors.Actors.Configuration;
using RingActors.Actors.Protocol;
using RingActors.Actors.Serialization;
using RingActors.Math;
using RingActors.Math.Masks;
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

    /// <summary>One sample of every message type (and a device setup): <see cref="RingMessageSamples.All"/>.</summary>
    private object[] Samples() => RingMessageSamples.All(TestActor);

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
    public void A_backward_device_setup_must_take_fault_steps_through_the_backward_and_no_further()
    {
        var setup = Setup() with { Backward = true };
        var last = setup with { Hooks = setup.Hooks with { FailAtStep = (2 * setup.Devices) - 1 } };
        var back = Assert.IsType<DeviceSetup>(Serializer.FromBinary(Serializer.ToBinary(last), "DS"));
        Assert.True(back.Backward);
        Assert.Equal(PartialPrecision.Bf16, back.PartialPrecision);
        Assert.Equal((2 * setup.Devices) - 1, back.Hooks.FailAtStep);

        var beyond = setup with { Hooks = setup.Hooks with { FailAtStep = 2 * setup.Devices } };
        var error = Assert.Throws<SerializationException>(() => Serializer.FromBinary(Serializer.ToBinary(beyond), "DS"));
        Assert.Contains($"must be in [-1, {(2 * setup.Devices) - 1}], got {2 * setup.Devices}", error.Message);
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
