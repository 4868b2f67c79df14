using System.Buffers.Binary;
using System.Runtime.Serialization;
using Akka.Configuration;
using RingActors.Actors.Configuration;
using RingActors.Actors.Protocol;
using RingActors.Actors.Serialization;
using RingActors.Math.Masks;
using Xunit.Abstractions;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors.Tests.Serialization;

/// <summary>
/// Drives every reader <see cref="RingMessageSerializer"/> registers (the manifests are taken from the serializer, so a new
/// message without samples fails here) with valid frames, then truncated, bit-flipped, length- and count-forged, extended and
/// random ones: only a <see cref="SerializationException"/> may escape, a valid frame must come back byte for byte, and
/// decoding one frame may allocate at most <see cref="AllocationFactor"/> × its size + <see cref="AllocationSlack"/>.
/// </summary>
public class FrameFuzzSpec : Akka.TestKit.Xunit2.TestKit
{
    private const int Frames = 60_000;

    /// <summary>Strings decode to UTF-16 (2×), and an actor path is parsed once more to resolve it.</summary>
    private const long AllocationFactor = 4;

    /// <summary>
    /// What any decode may allocate besides: the exception a malformed frame throws (message, stack trace), resolving an actor
    /// reference, and a device setup's pattern, which max-pattern-bytes bounds (the setups below build patterns of a few KiB).
    /// </summary>
    private const long AllocationSlack = (16 * 1024) + MaxPatternBytes;

    private const long MaxPatternBytes = 16 * 1024;

    private static readonly Config SpecConfig = ConfigurationFactory
        .ParseString($"akka.actor.provider = remote\nakka.remote.dot-netty.tcp.port = 0\nring-actors.transport.max-pattern-bytes = {MaxPatternBytes}b")
        .WithFallback(ClusterDefaults.NodeDefaults);

    private readonly ITestOutputHelper _output;

    public FrameFuzzSpec(ITestOutputHelper output)
        : base(SpecConfig, output: output) => _output = output;

    private enum Mutation
    {
        None,
        Truncate,
        FlipBits,
        ForgeLengthOrCount,
        AppendBytes,
        RandomBytes,
    }

    private RingMessageSerializer Serializer => (RingMessageSerializer)Sys.Serialization.FindSerializerForType(typeof(BlockChunk));

    [Fact]
    public void Every_ring_message_reader_must_refuse_60000_mutated_frames_with_serialization_exceptions_only_and_bounded_allocation()
    {
        var serializer = Serializer;
        var valid = ValidFrames(serializer);
        var manifests = serializer.Manifests.ToArray();
        Assert.Empty(manifests.Except(valid.Keys));

        var mutations = Enum.GetValues<Mutation>();
        var random = new Random(20261201);
        var decoded = new Dictionary<(string, Mutation), int>();
        var refused = new Dictionary<(string, Mutation), int>();
        Fuzz(serializer, valid, manifests, mutations, new Random(1), 2000, null, null); // warm-up: JIT and caches, not measured

        var (largest, use) = Fuzz(serializer, valid, manifests, mutations, random, Frames, decoded, refused);

        _output.WriteLine($"{Frames} frames over {manifests.Length} manifests; largest decode allocation {largest} bytes; at most {use:P0} of the bound {AllocationFactor} × frame + {AllocationSlack} used");
        foreach (var mutation in mutations)
        {
            _output.WriteLine($"{mutation}: {manifests.Sum(m => decoded.GetValueOrDefault((m, mutation)))} decoded, {manifests.Sum(m => refused.GetValueOrDefault((m, mutation)))} refused");
        }

        // Every reader took its valid frames and refused malformed ones; a strict prefix or a longer frame is never valid.
        Assert.All(manifests, manifest =>
        {
            Assert.True(decoded.GetValueOrDefault((manifest, Mutation.None)) > 0, $"{manifest}: no valid frame decoded");
            Assert.Equal(0, refused.GetValueOrDefault((manifest, Mutation.None)));
            Assert.Equal(0, decoded.GetValueOrDefault((manifest, Mutation.Truncate)));
            Assert.Equal(0, decoded.GetValueOrDefault((manifest, Mutation.AppendBytes)));
            Assert.True(refused.GetValueOrDefault((manifest, Mutation.ForgeLengthOrCount)) + refused.GetValueOrDefault((manifest, Mutation.FlipBits)) > 0, $"{manifest}: no forged frame refused");
        });
    }

    [Fact]
    public void A_block_reader_must_refuse_a_forged_array_length_without_allocating_it()
    {
        var serializer = Serializer;
        var frame = serializer.ToBinary(new AcceptBlock("job-1", 0, 1, 0, 0, new float[8], new float[8], [0, 1]));

        // The positions' count sits after the job id (4 + 5), origin, step, sequence and ready-since (4 + 4 + 8 + 8).
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(1 + 9 + 24), 60_000_000);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Record.Exception(() => serializer.FromBinary(frame, "AB"));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("positions: truncated", Assert.IsType<SerializationException>(error).Message);
        Assert.True(allocated < 16 * 1024, $"allocated {allocated} bytes refusing a frame that claims 240 MB of positions");
    }

    /// <summary>Decodes <paramref name="frames"/> mutated frames; the largest allocation and the largest fraction of the bound one used.</summary>
    private static (long Largest, double Use) Fuzz(
        RingMessageSerializer serializer,
        Dictionary<string, byte[][]> valid,
        string[] manifests,
        Mutation[] mutations,
        Random random,
        int frames,
        Dictionary<(string, Mutation), int>? decoded,
        Dictionary<(string, Mutation), int>? refused)
    {
        long largest = 0;
        double use = 0;
        for (var i = 0; i < frames; i++)
        {
            var manifest = manifests[i % manifests.Length];
            var mutation = mutations[(i / manifests.Length) % mutations.Length];
            var original = valid[manifest][random.Next(valid[manifest].Length)];
            var frame = Mutate(original, mutation, random);

            object? result = null;
            Exception? error = null;
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                result = serializer.FromBinary(frame, manifest);
            }
            catch (Exception caught)
            {
                error = caught;
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            var bound = (AllocationFactor * frame.Length) + AllocationSlack;
            if (error is not (null or SerializationException))
            {
                Assert.Fail($"{manifest} {mutation} frame of {frame.Length} bytes threw {error.GetType().Name}: {error.Message}");
            }

            if (allocated > bound)
            {
                Assert.Fail($"{manifest} {mutation}: decoding a frame of {frame.Length} bytes allocated {allocated} bytes");
            }

            largest = System.Math.Max(largest, allocated);
            use = System.Math.Max(use, allocated / (double)bound);
            if (result is not null && mutation == Mutation.None && !serializer.ToBinary(result).AsSpan().SequenceEqual(original))
            {
                Assert.Fail($"{manifest}: a valid frame did not come back byte for byte");
            }

            var tally = result is null ? refused : decoded;
            if (tally is not null)
            {
                tally[(manifest, mutation)] = tally.GetValueOrDefault((manifest, mutation)) + 1;
            }
        }

        return (largest, use);
    }

    /// <summary>Valid frames by manifest: the protocol's samples, chunks, and device setups of every kind of pattern.</summary>
    private Dictionary<string, byte[][]> ValidFrames(RingMessageSerializer serializer)
    {
        var payload = Enumerable.Range(0, 250).Select(i => (byte)(i * 13)).ToArray();
        var chunks = new BlockChunker(100).Split(9, payload).Concat(new BlockChunker(7).Split(long.MaxValue, payload.AsMemory(0, 20)));
        var setup = RingMessageSamples.All(TestActor).OfType<DeviceSetup>().Single() with { SeqLen = 64 };
        string[] specs = ["window:7", "causal-window:5", "dilated:3:2", "strided", "fixed:8:2", "random:3", "bigbird:4:1:1", "global:0,5-9", "block:16:1100/1110/0111/0011", "union:window:4+global:0+random:2"];
        var setups = specs.Select(spec => setup with
        {
            PatternSpec = spec,
            Options = setup.Options with { Pattern = PatternSpec.Parse(spec, new PatternContext(64, setup.PatternSeed, setup.Options.Causal)) },
        });
        return RingMessageSamples.All(TestActor).Concat(chunks).Concat(setups)
            .GroupBy(serializer.Manifest)
            .ToDictionary(group => group.Key, group => group.Select(serializer.ToBinary).ToArray());
    }

    private static byte[] Mutate(byte[] frame, Mutation mutation, Random random)
    {
        switch (mutation)
        {
            case Mutation.Truncate:
                return frame[..random.Next(frame.Length)];
            case Mutation.FlipBits:
                var flipped = (byte[])frame.Clone();
                for (var flips = random.Next(1, 9); flips > 0; flips--)
                {
                    flipped[random.Next(flipped.Length)] ^= (byte)(1 << random.Next(8));
                }

                return flipped;
            case Mutation.ForgeLengthOrCount:
                return Forge(frame, random);
            case Mutation.AppendBytes:
                var longer = new byte[frame.Length + random.Next(1, 17)];
                frame.CopyTo(longer, 0);
                random.NextBytes(longer.AsSpan(frame.Length));
                return longer;
            case Mutation.RandomBytes:
                var noise = new byte[random.Next(0, 2048)];
                random.NextBytes(noise);
                if (noise.Length > 0 && random.Next(2) == 0)
                {
                    noise[0] = RingMessageSerializer.FrameVersion;
                }

                return noise;
            default:
                return frame;
        }
    }

    /// <summary>
    /// Overwrites one int32 with a forged value: mostly one that already reads as a plausible length or count (non-negative and
    /// no larger than the bytes after it — where the lengths, counts and dimensions are), sometimes any offset.
    /// </summary>
    private static byte[] Forge(byte[] frame, Random random)
    {
        var forged = (byte[])frame.Clone();
        if (frame.Length < 5)
        {
            return forged;
        }

        var candidates = Enumerable.Range(1, frame.Length - 4)
            .Where(at => BinaryPrimitives.ReadInt32LittleEndian(frame.AsSpan(at)) is var length && length >= 0 && length <= frame.Length - at - 4)
            .ToArray();
        var offset = candidates.Length > 0 && random.Next(5) > 0 ? candidates[random.Next(candidates.Length)] : random.Next(1, frame.Length - 3);
        var original = BinaryPrimitives.ReadInt32LittleEndian(frame.AsSpan(offset));
        int[] values = [int.MaxValue, int.MinValue, -1, 0, 1, 1 << 30, (1 << 20) + 1, frame.Length, frame.Length - offset - 3, unchecked((original * 2) + 1)];
        var value = random.Next(3) == 0 ? original + (random.Next(1, 17) * (random.Next(2) == 0 ? -1 : 1)) : values[random.Next(values.Length)];
        BinaryPrimitives.WriteInt32LittleEndian(forged.AsSpan(offset), value);
        return forged;
    }
}
