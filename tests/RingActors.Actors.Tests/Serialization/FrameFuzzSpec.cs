using System.Runtime.Serialization;
using RingActors.Actors.Serialization;
using Xunit.Abstractions;

namespace RingActors.Actors.Tests.Serialization;

/// <summary>
/// Random, truncated, bit-flipped and length-forged frames of a block-like layout (header, int[] positions, two float[])
/// must decode or throw a <see cref="SerializationException"/> — nothing else — and never allocate beyond the cap.
/// </summary>
public class FrameFuzzSpec(ITestOutputHelper output)
{
    private const byte Version = 1;

    /// <summary>Room for the exception a malformed frame throws (message, stack trace) and the decoded objects' headers.</summary>
    private const long AllocationSlack = 16 * 1024;

    private static readonly FrameLimits Limits = new(MaxFrameBytes: 64 * 1024, MaxArrayElements: 1 << 20, MaxStringBytes: 256);

    private enum Mutation
    {
        None,
        Truncate,
        FlipBits,
        RandomBytes,
        ForgeLength,
        AppendBytes,
    }

    [Fact]
    public void FrameReader_must_survive_12000_malformed_frames_with_only_serialization_exceptions_and_bounded_allocation()
    {
        var random = new Random(20240607);
        var mutations = Enum.GetValues<Mutation>();
        var decoded = new Dictionary<Mutation, int>();
        var refused = new Dictionary<Mutation, int>();
        long maxAllocated = 0;
        for (var iteration = 0; iteration < 12_000; iteration++)
        {
            var mutation = mutations[iteration % mutations.Length];
            var sample = Sample.Random(random);
            var (valid, fields) = Write(sample);
            var frame = Mutate(valid, fields, mutation, random);

            var (result, error, allocated) = Decode(frame);
            maxAllocated = System.Math.Max(maxAllocated, allocated);
            Assert.True(
                error is null or SerializationException,
                $"{mutation} frame of {frame.Length} bytes threw {error?.GetType().Name}: {error?.Message}");
            Assert.True(allocated <= Limits.MaxFrameBytes + AllocationSlack, $"{mutation}: decode allocated {allocated} bytes, cap {Limits.MaxFrameBytes}");
            Assert.True(allocated <= (2L * frame.Length) + AllocationSlack, $"{mutation}: decode allocated {allocated} bytes for a frame of {frame.Length}");
            if (result is null)
            {
                refused[mutation] = refused.GetValueOrDefault(mutation) + 1;
                Assert.NotEqual(Mutation.None, mutation);
            }
            else
            {
                decoded[mutation] = decoded.GetValueOrDefault(mutation) + 1;
                Assert.NotEqual(Mutation.Truncate, mutation);
                Assert.NotEqual(Mutation.AppendBytes, mutation);
                if (mutation == Mutation.None)
                {
                    sample.AssertEqual(result);
                }
            }
        }

        output.WriteLine($"largest allocation of one decode: {maxAllocated} bytes");
        foreach (var mutation in mutations)
        {
            output.WriteLine($"{mutation}: {decoded.GetValueOrDefault(mutation)} decoded, {refused.GetValueOrDefault(mutation)} refused");
        }

        Assert.Equal(2000, decoded[Mutation.None]);
        Assert.Equal(2000, refused[Mutation.Truncate]);
        Assert.Equal(2000, refused[Mutation.AppendBytes]);
        Assert.True(refused[Mutation.FlipBits] > 0 && refused[Mutation.ForgeLength] > 0 && refused[Mutation.RandomBytes] > 0);
    }

    [Fact]
    public void FrameReader_must_refuse_a_forged_array_length_without_allocating_it()
    {
        var writer = new FrameWriter(Version);
        writer.WriteString("job");
        writer.WriteInt32(1);
        writer.WriteInt64(2);
        writer.WriteInt32(60_000);
        writer.WriteInt32(1);
        writer.WriteInt32(60_000);
        var frame = writer.ToArray();

        var (result, error, allocated) = Decode(frame);
        Assert.Null(result);
        Assert.Contains("truncated", Assert.IsType<SerializationException>(error).Message);
        Assert.True(allocated < AllocationSlack, $"allocated {allocated} bytes refusing a frame that claims 240 KB of positions");
    }

    private static (Sample? Result, Exception? Error, long Allocated) Decode(byte[] frame)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        Sample? result = null;
        Exception? error = null;
        try
        {
            result = Sample.Read(frame);
        }
        catch (Exception caught)
        {
            error = caught;
        }

        return (result, error, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>The frame and the offsets of its int32 length and dimension fields (what a forger would aim at).</summary>
    private static (byte[] Frame, int[] Fields) Write(Sample sample)
    {
        var writer = new FrameWriter(Version);
        var fields = new List<int> { writer.Length };
        writer.WriteString(sample.JobId);
        fields.Add(writer.Length);
        writer.WriteInt32(sample.Step);
        writer.WriteInt64(sample.Sequence);
        fields.Add(writer.Length);
        writer.WriteInt32(sample.Tokens);
        fields.Add(writer.Length);
        writer.WriteInt32(sample.Dim);
        fields.Add(writer.Length);
        writer.WriteInts(sample.Positions);
        fields.Add(writer.Length);
        writer.WriteFloats(sample.Keys);
        fields.Add(writer.Length);
        writer.WriteFloats(sample.Values);
        return (writer.ToArray(), fields.ToArray());
    }

    private static byte[] Mutate(byte[] frame, int[] fields, Mutation mutation, Random random)
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
            case Mutation.RandomBytes:
                var noise = new byte[random.Next(0, 8192)];
                random.NextBytes(noise);
                if (noise.Length > 0 && random.Next(2) == 0)
                {
                    noise[0] = Version;
                }

                return noise;
            case Mutation.ForgeLength:
                var forged = (byte[])frame.Clone();
                int[] extremes = [int.MaxValue, int.MinValue, -1, 1 << 30, (1 << 20) + 1, 1 << 20, forged.Length, 0];
                var at = fields[random.Next(fields.Length)];
                var original = BitConverter.ToInt32(frame, at);
                var shifted = original + (random.Next(1, 17) * (random.Next(2) == 0 ? -1 : 1));
                BitConverter.TryWriteBytes(forged.AsSpan(at, 4), random.Next(2) == 0 ? extremes[random.Next(extremes.Length)] : shifted);
                return forged;
            case Mutation.AppendBytes:
                var longer = new byte[frame.Length + random.Next(1, 17)];
                frame.CopyTo(longer, 0);
                random.NextBytes(longer.AsSpan(frame.Length));
                return longer;
            default:
                return frame;
        }
    }

    private sealed record Sample(string JobId, int Step, long Sequence, int Tokens, int Dim, int[] Positions, float[] Keys, float[] Values)
    {
        public static Sample Random(Random random)
        {
            var tokens = random.Next(0, 41);
            var dim = random.Next(1, 17);
            var keys = new float[tokens * dim];
            var values = new float[tokens * dim];
            for (var i = 0; i < keys.Length; i++)
            {
                keys[i] = (float)(random.NextDouble() - 0.5);
                values[i] = (float)(random.NextDouble() - 0.5);
            }

            return new Sample(
                $"job-{random.Next(1000)}",
                random.Next(0, 8),
                random.NextInt64(),
                tokens,
                dim,
                Enumerable.Range(random.Next(1000), tokens).ToArray(),
                keys,
                values);
        }

        /// <summary>Decodes the layout, checking every dimension as a ring message's reader would.</summary>
        public static Sample Read(ReadOnlySpan<byte> frame)
        {
            var reader = new FrameReader(frame, Limits, Version);
            var jobId = reader.ReadString("job id");
            var step = reader.ReadInt32("step", 0, 1023);
            var sequence = reader.ReadInt64("sequence");
            var tokens = reader.ReadInt32("tokens", 0, 1 << 16);
            var dim = reader.ReadInt32("head dimension", 1, 1024);
            var positions = reader.ReadInts("positions", tokens);
            var keys = reader.ReadFloats("keys", (long)tokens * dim);
            var values = reader.ReadFloats("values", (long)tokens * dim);
            reader.EnsureEnd();
            return new Sample(jobId, step, sequence, tokens, dim, positions, keys, values);
        }

        public void AssertEqual(Sample other)
        {
            Assert.Equal((JobId, Step, Sequence, Tokens, Dim), (other.JobId, other.Step, other.Sequence, other.Tokens, other.Dim));
            Assert.Equal(Positions, other.Positions);
            Assert.Equal(Keys, other.Keys);
            Assert.Equal(Values, other.Values);
        }
    }
}
