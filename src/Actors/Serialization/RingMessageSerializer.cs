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

namespace RingActors.Actors.Serialization;

/// <summary>
/// The binary serializer of the ring's messages (bound to <see cref="IRingMessage"/>, <see cref="BlockChunk"/> and
/// <see cref="DeviceSetup"/> in cluster-reference.conf). Each message is one <see cref="FrameSerializer.Register{T}"/> line:
/// a manifest of 1–4 letters that never changes, a writer, a reader that checks every dimension, and the exact frame size.
/// Tensors travel as raw little-endian float32. <see cref="JobCompleted"/> is a local reply (it holds the whole result and
/// the job's pattern object) and is marked so that serialize-messages does not ask for it.
/// </summary>
public sealed class RingMessageSerializer : FrameSerializer
{
    /// <summary>Serializer identifier (above 100: 0–100 are Akka's own).</summary>
    public const int Id = 4110;

    /// <summary>
    /// Layout version of every frame; bump it when a message's layout changes (a node of another version is refused, never
    /// misread). 4: SetupTaken carries the device's start timestamp, DeviceKilled the timeline recorded up to the kill.
    /// </summary>
    public const byte FrameVersion = 4;

    /// <summary>Bytes of a <see cref="BlockChunk"/> frame besides its payload: version, id, index, count, total, byte count.</summary>
    public const int ChunkFrameOverhead = 1 + sizeof(long) + sizeof(int) + sizeof(int) + sizeof(int) + FrameWriter.LengthPrefixBytes;

    /// <summary>Longest job id (UTF-8 bytes) a frame may carry.</summary>
    public const int MaxJobIdBytes = 256;

    /// <summary>Most devices a frame may name (a device index is below this).</summary>
    public const int MaxDevices = 1 << 20;

    private const int MaxReasonBytes = 16 * 1024;

    private const string ChunkManifest = "CH";

    public RingMessageSerializer(ExtendedActorSystem system)
        : base(system, FrameVersion)
    {
        Register(ChunkManifest, WriteChunk, ReadChunk, chunk => ChunkFrameOverhead - 1 + chunk.Bytes.Length);
        Register("AC", WriteAssign, ReadAssign, SizeOfAssign);
        Register("SR", (w, m) => w.WriteString(m.JobId), (ref FrameReader r) => new StartRing(ReadJobId(ref r)), m => Str(m.JobId));
        Register("AB", WriteAccept, ReadAccept, SizeOfAccept);
        Register("GC", WriteGrant, ReadGrant, m => Str(m.JobId) + 4 + OptD(m.VirtualReleasedAt) + 1);
        Register("BR", WriteRefused, ReadRefused, m => Str(m.JobId) + 12 + Str(m.Reason));
        Register("BC", WriteComputed, ReadComputed, m => Str(m.JobId) + 12 + 1 + 8 + 1);
        Register("CC", WriteCompleted, ReadCompleted, SizeOfCompleted);
        Register<RunJob>("RJ", (_, _) => { }, (ref FrameReader _) => RunJob.Instance, _ => 0);
        Register<CancelJob>("CJ", (_, _) => { }, (ref FrameReader _) => CancelJob.Instance, _ => 0);
        Register("JF", WriteJobFailed, ReadJobFailed, m => Str(m.JobId) + Str(m.Reason) + 1);
        Register("LF", WriteLinkFrame, ReadLinkFrame, m => Str(m.JobId) + 4 + 4 + 4 + 8 + SizeOfAccept(m.Block));
        Register("LA", WriteLinkAck, ReadLinkAck, m => Str(m.JobId) + 4 + 4 + 8 + 1);
        Register("LR", WriteLinkRefused, ReadLinkRefused, m => Str(m.JobId) + 4 + 4 + 8 + Str(m.Reason));
        Register("LH", (w, m) => { w.WriteString(m.JobId); w.WriteInt32(m.Link); w.WriteInt32(m.SenderEpoch); w.WriteByte((byte)m.Pass); }, ReadLinkHello, m => Str(m.JobId) + 8 + 1);
        Register("LS", WriteLinkResume, ReadLinkResume, m => Str(m.JobId) + 4 + 4 + 4 + FrameWriter.SizeOfArray4(m.StepsHeld.Count) + 1);
        Register("PL", WritePartition, ReadPartition, m => Str(m.JobId) + Str(m.Fault) + 1 + 1 + 8);
        Register("RC", WriteRecover, ReadRecover, SizeOfRecover);
        Register("DK", WriteKilled, ReadKilled, m => Str(m.JobId) + 4 + 4 + 8 + SizeOfTimeline(m.Timeline));
        Register("CO", (w, m) => w.WriteString(m.Fault), (ref FrameReader r) => new CrashOrder(ReadReason(ref r, "fault")), m => Str(m.Fault));
        Register("LK", WriteLinkFailed, ReadLinkFailed, m => Str(m.JobId) + 16 + Str(m.Reason));
        Register("FO", WriteFaultObserved, ReadFaultObserved, m => Str(m.JobId) + SizeOfFault(m.Event));
        Register("DS", WriteSetup, ReadSetup, SizeOfSetup);
        Register("FF", (w, m) => w.WriteString(m.JobId), (ref FrameReader r) => new FlushFaults(ReadJobId(ref r)), m => Str(m.JobId));
        Register("FD", (w, m) => { w.WriteString(m.JobId); w.WriteInt32(m.Link); }, (ref FrameReader r) => new FaultsFlushed(ReadJobId(ref r), ReadDevice(ref r, "link")), m => Str(m.JobId) + 4);
        Register("ST", (w, m) => { w.WriteString(m.JobId); w.WriteInt32(m.Device); w.WriteBoolean(m.Started); w.WriteInt64(m.StartedAt); }, (ref FrameReader r) => new SetupTaken(ReadJobId(ref r), ReadDevice(ref r), r.ReadBoolean("started"), r.ReadInt64("started at")), m => Str(m.JobId) + 4 + 1 + 8);
        Register("PM", (w, m) => w.WriteBytes(m.Nonce), (ref FrameReader r) => new ProveMembership(ReadBytes(ref r, "nonce", ProveMembership.NonceBytes)), m => 4 + m.Nonce.Length);
        Register("MP", (w, m) => { w.WriteBytes(m.Certificate); w.WriteBytes(m.Signature); }, ReadProof, m => 8 + m.Certificate.Length + m.Signature.Length);
        Register("SB", WriteStartBackward, ReadStartBackward, m => Str(m.JobId) + Floats(m.OutputGradient) + SizeOfHomes(m.Homes, m.HomeEpochs));
        Register("RB", WriteRecoverBackward, ReadRecoverBackward, SizeOfRecoverBackward);
        Register("RK", WriteRecompute, ReadRecompute, m => Str(m.JobId) + 4 + 4 + Ref(m.HomeRef) + SizeOfBlock(m.Block));
        Register("GX", WriteContribution, ReadContribution, m => Str(m.JobId) + (4 * 4) + 8 + Floats(m.Keys) + Floats(m.Values));
        Register("GA", WriteContributionAck, ReadContributionAck, m => Str(m.JobId) + 4 + 4 + 8 + 1);
        Register("GD", WriteGradients, ReadGradients, m => Str(m.JobId) + 4 + Floats(m.QueryGradient) + Floats(m.KeyGradient) + Floats(m.ValueGradient) + StatsBytes + SizeOfTimeline(m.MeasuredTimeline));
    }

    private static RingPass ReadPass(ref FrameReader r)
    {
        var pass = r.ReadByte("pass");
        FrameReader.Require(Enum.IsDefined((RingPass)pass), $"unknown ring pass {pass}");
        return (RingPass)pass;
    }

    private static long SizeOfBlock(KeyValueBlock b) => FrameWriter.SizeOfArray4(b.Positions.Length) + Floats(b.Keys) + Floats(b.Values);

    private static void WriteBlock(FrameWriter w, KeyValueBlock b)
    {
        w.WriteInts(b.Positions);
        w.WriteFloats(b.Keys);
        w.WriteFloats(b.Values);
    }

    private static KeyValueBlock ReadBlock(ref FrameReader r)
    {
        var positions = ReadPositions(ref r, "block positions");
        var (keys, values) = ReadKeyValues(ref r, positions.Length);
        return new KeyValueBlock(keys, values, positions);
    }

    private static long SizeOfHomes(IReadOnlyList<IActorRef> homes, IReadOnlyList<int> epochs) =>
        4 + homes.Sum(h => Ref(h)) + FrameWriter.SizeOfArray4(epochs.Count);

    private static void WriteHomes(FrameWriter w, IReadOnlyList<IActorRef> homes, IReadOnlyList<int> epochs)
    {
        w.WriteInt32(homes.Count);
        foreach (var home in homes)
        {
            w.WriteActorRef(home);
        }

        w.WriteInts([.. epochs]);
    }

    /// <summary>One ref and one epoch per device, each epoch ≥ 0.</summary>
    private static (IActorRef[] Homes, int[] Epochs) ReadHomes(ref FrameReader r)
    {
        var count = r.ReadInt32("homes", 1, MaxDevices);
        FrameReader.Require(count * 4L <= r.Remaining, $"{count} homes need at least {count * 4L} bytes, {r.Remaining} remain");
        var homes = new IActorRef[count];
        for (var i = 0; i < count; i++)
        {
            homes[i] = r.ReadActorRef("home");
        }

        var epochs = r.ReadInts("home epochs");
        FrameReader.Require(epochs.Length == count && epochs.All(e => e >= 0), $"{epochs.Length} home epochs for {count} homes, each ≥ 0");
        return (homes, epochs);
    }

    private static void WriteStartBackward(FrameWriter w, StartBackward m)
    {
        w.WriteString(m.JobId);
        w.WriteFloats(m.OutputGradient);
        WriteHomes(w, m.Homes, m.HomeEpochs);
    }

    private static StartBackward ReadStartBackward(ref FrameReader r)
    {
        var jobId = ReadJobId(ref r);
        var gradient = r.ReadFloats("output gradient");
        var (homes, epochs) = ReadHomes(ref r);
        return new StartBackward(jobId, gradient, homes, epochs);
    }

    private static void WriteRecoverBackward(FrameWriter w, RecoverBackward m)
    {
        w.WriteString(m.JobId);
        w.WriteInts(m.QueryPositions);
        w.WriteFloats(m.Queries);
        w.WriteFloats(m.OutputGradient);
        w.WriteFloats(m.Output);
        w.WriteFloats(m.Lse);
        w.WriteInt32(m.Blocks.Count);
        foreach (var block in m.Blocks)
        {
            WriteBlock(w, block);
        }

        WriteHomes(w, m.Homes, m.HomeEpochs);
        w.WriteActorRef(m.Predecessor);
        w.WriteActorRef(m.Successor);
        w.WriteActorRef(m.Supervisor);
    }

    private static RecoverBackward ReadRecoverBackward(ref FrameReader r)
    {
        var jobId = ReadJobId(ref r);
        var queryPositions = ReadPositions(ref r, "query positions");
        var queries = r.ReadFloats("queries");
        FrameReader.Require(
            queryPositions.Length > 0 && queries.Length % queryPositions.Length == 0 && queries.Length > 0,
            $"queries hold {queries.Length} floats, not a whole chunk of {queryPositions.Length} tokens");
        var gradient = r.ReadFloats("output gradient", queries.Length);
        var output = r.ReadFloats("output", queries.Length);
        var lse = r.ReadFloats("lse");
        FrameReader.Require(lse.Length > 0 && queries.Length % lse.Length == 0, $"an lse of {lse.Length} rows for queries of {queries.Length} floats");
        var count = r.ReadInt32("blocks", 1, MaxDevices);
        FrameReader.Require(count * 12L <= r.Remaining, $"{count} blocks need at least {count * 12L} bytes, {r.Remaining} remain");
        var blocks = new KeyValueBlock[count];
        for (var i = 0; i < count; i++)
        {
            blocks[i] = ReadBlock(ref r);
        }

        var (homes, epochs) = ReadHomes(ref r);
        FrameReader.Require(homes.Length == count, $"{homes.Length} homes for {count} blocks");
        return new RecoverBackward(jobId, queries, queryPositions, gradient, output, lse, blocks, homes, epochs, r.ReadActorRef("predecessor"), r.ReadActorRef("successor"), r.ReadActorRef("supervisor"));
    }

    private static long SizeOfRecoverBackward(RecoverBackward m) =>
        Str(m.JobId) + FrameWriter.SizeOfArray4(m.QueryPositions.Length) + Floats(m.Queries) + Floats(m.OutputGradient) + Floats(m.Output) + Floats(m.Lse)
        + 4 + m.Blocks.Sum(SizeOfBlock) + SizeOfHomes(m.Homes, m.HomeEpochs) + Ref(m.Predecessor) + Ref(m.Successor) + Ref(m.Supervisor);

    private static void WriteRecompute(FrameWriter w, RecomputeContribution m)
    {
        w.WriteString(m.JobId);
        w.WriteInt32(m.Home);
        w.WriteInt32(m.HomeEpoch);
        w.WriteActorRef(m.HomeRef);
        WriteBlock(w, m.Block);
    }

    private static RecomputeContribution ReadRecompute(ref FrameReader r) =>
        new(ReadJobId(ref r), ReadDevice(ref r, "home"), ReadEpoch(ref r, "home epoch"), r.ReadActorRef("home ref"), ReadBlock(ref r));

    private static void WriteContribution(FrameWriter w, Contribution m)
    {
        w.WriteString(m.JobId);
        w.WriteInt32(m.Contributor);
        w.WriteInt32(m.ContributorEpoch);
        w.WriteInt32(m.Home);
        w.WriteInt32(m.HomeEpoch);
        w.WriteInt64(m.Sequence);
        w.WriteFloats(m.Keys);
        w.WriteFloats(m.Values);
    }

    private static Contribution ReadContribution(ref FrameReader r)
    {
        var jobId = ReadJobId(ref r);
        var contributor = ReadDevice(ref r, "contributor");
        var contributorEpoch = ReadEpoch(ref r, "contributor epoch");
        var home = ReadDevice(ref r, "home");
        var homeEpoch = ReadEpoch(ref r, "home epoch");
        var sequence = r.ReadInt64("sequence");
        FrameReader.Require(sequence >= 0, $"sequence must be ≥ 0, got {sequence}");
        var keys = r.ReadFloats("dK");
        var values = r.ReadFloats("dV", keys.Length);
        return new Contribution(jobId, contributor, contributorEpoch, home, homeEpoch, sequence, keys, values);
    }

    private static void WriteContributionAck(FrameWriter w, ContributionAck m)
    {
        w.WriteString(m.JobId);
        w.WriteInt32(m.Home);
        w.WriteInt32(m.ContributorEpoch);
        w.WriteInt64(m.Sequence);
        w.WriteBoolean(m.Duplicate);
    }

    private static ContributionAck ReadContributionAck(ref FrameReader r)
    {
        var jobId = ReadJobId(ref r);
        var home = ReadDevice(ref r, "home");
        var epoch = ReadEpoch(ref r, "contributor epoch");
        var sequence = r.ReadInt64("sequence");
        FrameReader.Require(sequence >= 0, $"sequence must be ≥ 0, got {sequence}");
        return new ContributionAck(jobId, home, epoch, sequence, r.ReadBoolean("duplicate"));
    }

    private static void WriteGradients(FrameWriter w, GradientsCompleted m)
    {
        w.WriteString(m.JobId);
        w.WriteInt32(m.Device);
        w.WriteFloats(m.QueryGradient);
        w.WriteFloats(m.KeyGradient);
        w.WriteFloats(m.ValueGradient);
        WriteStats(w, m.Stats);
        WriteTimeline(w, m.MeasuredTimeline);
    }

    private static GradientsCompleted ReadGradients(ref FrameReader r)
    {
        var jobId = ReadJobId(ref r);
        var device = ReadDevice(ref r);
        var queries = r.ReadFloats("dQ");
        var keys = r.ReadFloats("dK");
        var values = r.ReadFloats("dV", keys.Length);
        var stats = ReadStats(ref r);
        FrameReader.Require(stats.Device == device, $"statistics of device {stats.Device} in the gradients of device {device}");
        return new GradientsCompleted(jobId, device, queries, keys, values, stats, ReadTimeline(ref r, device));
    }

    public override int Identifier => Id;

    /// <summary>The exact frame size of <paramref name="message"/> (version byte included), without writing it.</summary>
    public long FrameSize(object message) => SizeOf(message) + 1;

    private static long Str(string value) => FrameWriter.SizeOfString(value);

    private static long Ref(IActorRef? actor) => FrameWriter.SizeOfActorRef(actor);

    private static long OptD(double? value) => value.HasValue ? 9 : 1;

    private static long Floats(float[] values) => FrameWriter.SizeOfArray4(values.Length);

    private static string ReadJobId(ref FrameReader reader)
    {
        var id = reader.ReadString("job id");
        FrameReader.Require(id.Length > 0 && System.Text.Encoding.UTF8.GetByteCount(id) <= MaxJobIdBytes, $"job id must be 1..{MaxJobIdBytes} bytes, got {id.Length} characters");
        return id;
    }

    private static string ReadReason(ref FrameReader reader, string field)
    {
        var reason = reader.ReadString(field);
        FrameReader.Require(reason.Length <= MaxReasonBytes, $"{field} of {reason.Length} characters exceeds {MaxReasonBytes}");
        return reason;
    }

    private static byte[] ReadBytes(ref FrameReader reader, string field, int max)
    {
        var bytes = reader.ReadBytes(field);
        FrameReader.Require(bytes.Length <= max, $"{field} of {bytes.Length} bytes exceeds {max}");
        return bytes;
    }

    private static MembershipProof ReadProof(ref FrameReader reader) =>
        new(ReadBytes(ref reader, "certificate", MembershipProof.MaxCertificateBytes), ReadBytes(ref reader, "signature", MembershipProof.MaxSignatureBytes));

    private static int ReadDevice(ref FrameReader reader, string field = "device") => reader.ReadInt32(field, 0, MaxDevices - 1);

    /// <summary>Positions are global token indices: never negative.</summary>
    private static int[] ReadPositions(ref FrameReader reader, string field)
    {
        var positions = reader.ReadInts(field);
        foreach (var p in positions)
        {
            FrameReader.Require(p >= 0, $"{field}: negative position {p}");
        }

        return positions;
    }

    /// <summary>K and V of a block of <paramref name="tokens"/> tokens: equal lengths, a whole number of rows per token (or both empty: phantom).</summary>
    private static (float[] Keys, float[] Values) ReadKeyValues(ref FrameReader reader, int tokens)
    {
        var keys = reader.ReadFloats("keys");
        var values = reader.ReadFloats("values", keys.Length);
        FrameReader.Require(
            keys.Length == 0 || (tokens > 0 && keys.Length % tokens == 0),
            $"keys hold {keys.Length} floats, not a whole [B, Hkv, {tokens}, d] block");
        return (keys, values);
    }

    private static void WriteChunk(FrameWriter writer, BlockChunk chunk)
    {
        writer.WriteInt64(chunk.TransferId);
        writer.WriteInt32(chunk.Index);
        writer.WriteInt32(chunk.Count);
        writer.WriteInt32(chunk.TotalBytes);
        writer.WriteBytes(chunk.Bytes.Span);
    }

    private static BlockChunk ReadChunk(ref FrameReader reader)
    {
        var (transferId, index, count, total) = ReadChunkHeader(ref reader);
        var bytes = reader.ReadBytes("chunk bytes");
        var expected = BlockChunker.Slice(total, count, index).Length;
        FrameReader.Require(bytes.Length == expected, $"chunk {index} holds {bytes.Length} bytes, the layout gives {expected}");
        return new BlockChunk(transferId, index, count, total, bytes);
    }

    private static (long TransferId, int Index, int Count, int Total) ReadChunkHeader(ref FrameReader reader)
    {
        var transferId = reader.ReadInt64("transfer id");
        var index = reader.ReadInt32("chunk index", 0, int.MaxValue - 1);
        var count = reader.ReadInt32("chunk count", index + 1, int.MaxValue);
        var total = reader.ReadInt32("total bytes", 0, int.MaxValue);
        FrameReader.Require(BlockChunker.IsValidLayout(total, count), $"{count} chunks cannot hold {total} bytes");
        return (transferId, index, count, total);
    }

    /// <summary>
    /// A chunk's bytes are the tail of the frame the transport handed over (an array nobody else holds), so the chunk is a
    /// slice of it rather than a copy: one allocation and copy of up to max-message-bytes less per chunk received
    /// (bench transport). Every other message is decoded by the table.
    /// </summary>
    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (manifest != ChunkManifest || bytes is null)
        {
            return base.FromBinary(bytes!, manifest);
        }

        try
        {
            var reader = new FrameReader(bytes, Settings.MessageLimits, Version, system);
            var (transferId, index, count, total) = ReadChunkHeader(ref reader);
            var length = reader.ReadInt32("chunk bytes", 0, int.MaxValue);
            FrameReader.Require(length == reader.Remaining, $"chunk bytes: {length} declared, {reader.Remaining} left in the frame");
            var expected = BlockChunker.Slice(total, count, index).Length;
            FrameReader.Require(length == expected, $"chunk {index} holds {length} bytes, the layout gives {expected}");
            return new BlockChunk(transferId, index, count, total, new ReadOnlyMemory<byte>(bytes, bytes.Length - length, length));
        }
        catch (Exception error) when (error is not System.Runtime.Serialization.SerializationException)
        {
            throw Malformed(ChunkManifest, error);
        }
    }

    private static void WriteAssign(FrameWriter w, AssignChunk m)
    {
        w.WriteString(m.JobId);
        w.WriteInts(m.QueryPositions);
        w.WriteFloats(m.Queries);
        w.WriteInts(m.KeyPositions);
        w.WriteFloats(m.Keys);
        w.WriteFloats(m.Values);
        w.WriteActorRef(m.Predecessor);
        w.WriteActorRef(m.Successor);
        w.WriteActorRef(m.Supervisor);
    }

    private static AssignChunk ReadAssign(ref FrameReader r)
    {
        var jobId = ReadJobId(ref r);
        var queryPositions = ReadPositions(ref r, "query positions");
        var queries = r.ReadFloats("queries");
        FrameReader.Require(
            queries.Length == 0 || (queryPositions.Length > 0 && queries.Length % queryPositions.Length == 0),
            $"queries hold {queries.Length} floats, not a whole [B, H, {queryPositions.Length}, d] chunk");
        var keyPositions = ReadPositions(ref r, "key positions");
        var (keys, values) = ReadKeyValues(ref r, keyPositions.Length);
        return new AssignChunk(jobId, queries, queryPositions, keys, values, keyPositions, r.ReadActorRef("predecessor"), r.ReadActorRef("successor"), r.ReadActorRef("supervisor"));
    }

    private static long SizeOfAssign(AssignChunk m) =>
        Str(m.JobId) + FrameWriter.SizeOfArray4(m.QueryPositions.Length) + Floats(m.Queries) + FrameWriter.SizeOfArray4(m.KeyPositions.Length)
        + Floats(m.Keys) + Floats(m.Values) + Ref(m.Predecessor) + Ref(m.Successor) + Ref(m.Supervisor);

    private static void WriteAccept(FrameWriter w, AcceptBlock m)
    {
        w.WriteString(m.JobId);
        w.WriteInt32(m.Origin);
        w.WriteInt32(m.Step);
        w.WriteInt64(m.Sequence);
        w.WriteInt64(m.ReadySince);
        w.WriteInts(m.Positions);
        w.WriteFloats(m.Keys);
        w.WriteFloats(m.Values);
        w.WriteOptionalDouble(m.VirtualSentAt);
        w.WriteByte((byte)m.Pass);
    }

    private static AcceptBlock ReadAccept(ref FrameReader r)
    {
        var jobId = ReadJobId(ref r);
        var origin = ReadDevice(ref r, "origin");
        var step = ReadDevice(ref r, "step");
        var sequence = r.ReadInt64("sequence");
        FrameReader.Require(sequence >= 0, $"sequence must be ≥ 0, got {sequence}");
        var readySince = r.ReadInt64("ready since");
        var positions = ReadPositions(ref r, "positions");
        var (keys, values) = ReadKeyValues(ref r, positions.Length);
        return new AcceptBlock(jobId, origin, step, sequence, readySince, keys, values, positions, r.ReadOptionalDouble("virtual sent at"), ReadPass(ref r));
    }

    private static long SizeOfAccept(AcceptBlock m) =>
        Str(m.JobId) + 4 + 4 + 8 + 8 + FrameWriter.SizeOfArray4(m.Positions.Length) + Floats(m.Keys) + Floats(m.Values) + OptD(m.VirtualSentAt) + 1;

    private static void WriteGrant(FrameWriter w, GrantCredit m)
    {
        w.WriteString(m.JobId);
        w.WriteInt32(m.Credits);
        w.WriteOptionalDouble(m.VirtualReleasedAt);
        w.WriteByte((byte)m.Pass);
    }

    private static GrantCredit ReadGrant(ref FrameReader r) =>
        new(ReadJobId(ref r), r.ReadInt32("credits", 1, MaxDevices), r.ReadOptionalDouble("virtual released at"), ReadPass(ref r));

    private static void WriteRefused(FrameWriter w, BlockRefused m)
    {
        w.WriteString(m.JobId);
        w.WriteInt32(m.Device);
        w.WriteInt32(m.Origin);
        w.WriteInt32(m.Step);
        w.WriteString(m.Reason);
    }

    // The job id of a refusal is the refused block's: it may be a foreign or malformed one, so only the string cap applies.
    private static BlockRefused ReadRefused(ref FrameReader r) =>
        new(r.ReadString("job id"), ReadDevice(ref r), ReadDevice(ref r, "origin"), ReadDevice(ref r, "step"), ReadReason(ref r, "reason"));

    private static void WriteComputed(FrameWriter w, BlockComputed m)
    {
        w.WriteString(m.JobId);
        w.WriteInt32(m.Device);
        w.WriteInt32(m.Step);
        w.WriteInt32(m.Origin);
        w.WriteBoolean(m.Skipped);
        w.WriteInt64(m.PairsComputed);
        w.WriteByte((byte)m.Pass);
    }

    private static BlockComputed ReadComputed(ref FrameReader r)
    {
        var jobId = ReadJobId(ref r);
        var device = ReadDevice(ref r);
        var step = ReadDevice(ref r, "step");
        var origin = ReadDevice(ref r, "origin");
        var skipped = r.ReadBoolean("skipped");
        var pairs = r.ReadInt64("pairs computed");
        FrameReader.Require(pairs >= 0, $"pairs computed must be ≥ 0, got {pairs}");
        return new BlockComputed(jobId, device, step, origin, skipped, pairs, ReadPass(ref r));
    }

    private static void WriteCompleted(FrameWriter w, ChunkCompleted m)
    {
        w.WriteString(m.JobId);
        w.WriteInt32(m.Device);
        w.WriteFloats(m.Output);
        w.WriteFloats(m.Lse);
        WriteStats(w, m.Stats);
        WriteTimeline(w, m.MeasuredTimeline);
        WriteTimeline(w, m.VirtualTimeline);
    }

    private static ChunkCompleted ReadCompleted(ref FrameReader r)
    {
        var jobId = ReadJobId(ref r);
        var device = ReadDevice(ref r);
        var output = r.ReadFloats("output");
        var lse = r.ReadFloats("lse");
        FrameReader.Require(
            (output.Length == 0 && lse.Length == 0) || (lse.Length > 0 && output.Length % lse.Length == 0),
            $"output of {output.Length} floats is not a whole [B, H, n, d] for an lse of {lse.Length} rows");
        var stats = ReadStats(ref r);
        FrameReader.Require(stats.Device == device, $"statistics of device {stats.Device} in the result of device {device}");
        return new ChunkCompleted(jobId, device, output, lse, stats, ReadTimeline(ref r, device), ReadTimeline(ref r, device));
    }

    private static long SizeOfCompleted(ChunkCompleted m) =>
        Str(m.JobId) + 4 + Floats(m.Output) + Floats(m.Lse) + StatsBytes + SizeOfTimeline(m.MeasuredTimeline) + SizeOfTimeline(m.VirtualTimeline);

    private const long StatsBytes = (4 * 2) + (4 * 2) + 8 + 8 + (8 * 3) + (8 * 2) + (4 * 3) + 8 + (4 * 3) + (8 * 2) + 8 + (8 * 3) + (4 * 3) + (4 * 4);

    private static void WriteStats(FrameWriter w, DeviceStats s)
    {
        w.WriteInt32(s.Device);
        w.WriteInt32(s.QueryTokens);
        w.WriteInt32(s.BlocksComputed);
        w.WriteInt32(s.BlocksSkipped);
        w.WriteInt64(s.PairsComputed);
        w.WriteDouble(s.Flops);
        w.WriteInt64(s.ComputeTime.Ticks);
        w.WriteInt64(s.ComputeQueueTime.Ticks);
        w.WriteInt64(s.WaitingTime.Ticks);
        w.WriteInt64(s.BytesSent);
        w.WriteInt64(s.BytesReceived);
        w.WriteInt32(s.HandOffsSent);
        w.WriteInt32(s.HandOffsReceived);
        w.WriteInt32(s.HandOffsDelayedByCredit);
        w.WriteInt64(s.PeakResidentBytes);
        w.WriteInt32(s.PeakBlocksHeld);
        w.WriteInt32(s.DuplicatesDropped);
        w.WriteInt32(s.BlocksRefused);
        w.WriteInt64(s.HandOffTime.Ticks);
        w.WriteInt64(s.HiddenHandOffTime.Ticks);
        w.WriteInt64(s.NetworkBytesSent);
        w.WriteInt64(s.NetworkBytesToSuccessor);
        w.WriteInt64(s.NetworkBytesToPredecessor);
        w.WriteInt64(s.NetworkBytesToSupervisor);
        w.WriteInt32(s.StaleFramesRefused);
        w.WriteInt32(s.Retransmissions);
        w.WriteInt32(s.Epoch);
        w.WriteInt32(s.ContributionsSent);
        w.WriteInt32(s.ContributionsSummed);
        w.WriteInt32(s.ContributionDuplicates);
        w.WriteInt32(s.ContributionsRecomputed);
    }

    private static DeviceStats ReadStats(ref FrameReader r)
    {
        var device = ReadDevice(ref r, "stats device");
        var queryTokens = NonNegative(ref r, "query tokens");
        var blocksComputed = NonNegative(ref r, "blocks computed");
        var blocksSkipped = NonNegative(ref r, "blocks skipped");
        var pairs = r.ReadInt64("pairs computed");
        var flops = r.ReadDouble("flops");
        return new DeviceStats(
            device, queryTokens, blocksComputed, blocksSkipped, pairs, flops,
            Ticks(ref r, "compute time"), Ticks(ref r, "compute queue time"), Ticks(ref r, "waiting time"),
            r.ReadInt64("bytes sent"), r.ReadInt64("bytes received"),
            NonNegative(ref r, "hand-offs sent"), NonNegative(ref r, "hand-offs received"), NonNegative(ref r, "hand-offs delayed"),
            r.ReadInt64("peak resident bytes"), NonNegative(ref r, "peak blocks held"), NonNegative(ref r, "duplicates dropped"), NonNegative(ref r, "blocks refused"),
            Ticks(ref r, "hand-off time"), Ticks(ref r, "hidden hand-off time"))
        {
            NetworkBytesSent = r.ReadInt64("network bytes sent"),
            NetworkBytesToSuccessor = r.ReadInt64("network bytes to successor"),
            NetworkBytesToPredecessor = r.ReadInt64("network bytes to predecessor"),
            NetworkBytesToSupervisor = r.ReadInt64("network bytes to supervisor"),
            StaleFramesRefused = NonNegative(ref r, "stale frames refused"),
            Retransmissions = NonNegative(ref r, "retransmissions"),
            Epoch = NonNegative(ref r, "epoch"),
            ContributionsSent = NonNegative(ref r, "contributions sent"),
            ContributionsSummed = NonNegative(ref r, "contributions summed"),
            ContributionDuplicates = NonNegative(ref r, "contribution duplicates"),
            ContributionsRecomputed = NonNegative(ref r, "contributions recomputed"),
        };
    }

    private static int NonNegative(ref FrameReader r, string field) => r.ReadInt32(field, 0, int.MaxValue);

    private static TimeSpan Ticks(ref FrameReader r, string field) => TimeSpan.FromTicks(r.ReadInt64(field));

    private static void WriteTimeline(FrameWriter w, DeviceTimeline? t)
    {
        w.WriteBoolean(t is not null);
        if (t is null)
        {
            return;
        }

        w.WriteInt32(t.Device);
        w.WriteInt32(t.Intervals.Count);
        foreach (var interval in t.Intervals)
        {
            w.WriteByte((byte)interval.Kind);
            w.WriteDouble(interval.Start);
            w.WriteDouble(interval.End);
            w.WriteInt32(interval.Step);
        }

        w.WriteDouble(t.ComputeSeconds);
        w.WriteDouble(t.IdleSeconds);
        w.WriteDouble(t.CommunicationSeconds);
        w.WriteDouble(t.HiddenCommunicationSeconds);
        w.WriteDouble(t.FinishedAt);
        w.WriteInt32(t.HandOffsReceived);
    }

    private const int IntervalBytes = 1 + 8 + 8 + 4;

    private static long SizeOfTimeline(DeviceTimeline? t) => t is null ? 1 : 1 + 4 + 4 + ((long)t.Intervals.Count * IntervalBytes) + (5 * 8) + 4;

    /// <summary>A device's timeline inside the result of device <paramref name="owner"/>: it must be that device's.</summary>
    private static DeviceTimeline? ReadTimeline(ref FrameReader r, int owner)
    {
        if (!r.ReadBoolean("timeline present"))
        {
            return null;
        }

        var device = ReadDevice(ref r, "timeline device");
        FrameReader.Require(device == owner, $"timeline of device {device} in the result of device {owner}");
        var count = r.ReadInt32("intervals", 0, int.MaxValue);
        // Checked against the bytes left before allocating: a forged count cannot make the list larger than the frame.
        FrameReader.Require((long)count * IntervalBytes <= r.Remaining, $"{count} intervals need {(long)count * IntervalBytes} bytes, {r.Remaining} remain");
        var intervals = new TimelineInterval[count];
        for (var i = 0; i < count; i++)
        {
            var kind = r.ReadByte("interval kind");
            FrameReader.Require(Enum.IsDefined((IntervalKind)kind), $"unknown interval kind {kind}");
            intervals[i] = new TimelineInterval((IntervalKind)kind, r.ReadDouble("start"), r.ReadDouble("end"), r.ReadInt32("step"));
        }

        return new DeviceTimeline(device, intervals, r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), NonNegative(ref r, "hand-offs received"));
    }

    private static void WriteJobFailed(FrameWriter w, JobFailed m)
    {
        w.WriteString(m.JobId);
        w.WriteString(m.Reason);
        w.WriteBoolean(m.Cancelled);
    }

    private static JobFailed ReadJobFailed(ref FrameReader r) => new(ReadJobId(ref r), ReadReason(ref r, "reason"), r.ReadBoolean("cancelled"));

    private static void WriteLinkHeader(FrameWriter w, string jobId, int link, int senderEpoch, long sequence)
    {
        w.WriteString(jobId);
        w.WriteInt32(link);
        w.WriteInt32(senderEpoch);
        w.WriteInt64(sequence);
    }

    private static (string JobId, int Link, int SenderEpoch, long Sequence) ReadLinkHeader(ref FrameReader r)
    {
        var jobId = ReadJobId(ref r);
        var link = ReadDevice(ref r, "link");
        var epoch = ReadEpoch(ref r, "sender epoch");
        var sequence = r.ReadInt64("sequence");
        FrameReader.Require(sequence >= 0, $"sequence must be ≥ 0, got {sequence}");
        return (jobId, link, epoch, sequence);
    }

    private static int ReadEpoch(ref FrameReader r, string field) => r.ReadInt32(field, 0, int.MaxValue);

    private static void WriteLinkFrame(FrameWriter w, LinkFrame m)
    {
        WriteLinkHeader(w, m.JobId, m.Link, m.SenderEpoch, m.Sequence);
        w.WriteInt32(m.ReceiverEpoch);
        WriteAccept(w, m.Block);
    }

    private static LinkFrame ReadLinkFrame(ref FrameReader r)
    {
        var (jobId, link, senderEpoch, sequence) = ReadLinkHeader(ref r);
        var receiverEpoch = ReadEpoch(ref r, "receiver epoch");
        return new LinkFrame(jobId, link, senderEpoch, receiverEpoch, sequence, ReadAccept(ref r));
    }

    private static void WriteLinkAck(FrameWriter w, LinkAck m)
    {
        WriteLinkHeader(w, m.JobId, m.Link, m.SenderEpoch, m.Sequence);
        w.WriteBoolean(m.Duplicate);
    }

    private static LinkAck ReadLinkAck(ref FrameReader r)
    {
        var (jobId, link, epoch, sequence) = ReadLinkHeader(ref r);
        return new LinkAck(jobId, link, epoch, sequence, r.ReadBoolean("duplicate"));
    }

    private static void WriteLinkRefused(FrameWriter w, LinkRefused m)
    {
        WriteLinkHeader(w, m.JobId, m.Link, m.SenderEpoch, m.Sequence);
        w.WriteString(m.Reason);
    }

    private static LinkRefused ReadLinkRefused(ref FrameReader r)
    {
        var (jobId, link, epoch, sequence) = ReadLinkHeader(ref r);
        return new LinkRefused(jobId, link, epoch, sequence, ReadReason(ref r, "reason"));
    }

    private static LinkHello ReadLinkHello(ref FrameReader r) => new(ReadJobId(ref r), ReadDevice(ref r, "link"), ReadEpoch(ref r, "sender epoch"), ReadPass(ref r));

    private static void WriteLinkResume(FrameWriter w, LinkResume m)
    {
        w.WriteString(m.JobId);
        w.WriteInt32(m.Link);
        w.WriteInt32(m.ReceiverEpoch);
        w.WriteInt32(m.Credits);
        w.WriteInts(m.StepsHeld.ToArray());
        w.WriteByte((byte)m.Pass);
    }

    private static LinkResume ReadLinkResume(ref FrameReader r)
    {
        var jobId = ReadJobId(ref r);
        var link = ReadDevice(ref r, "link");
        var epoch = ReadEpoch(ref r, "receiver epoch");
        var credits = r.ReadInt32("credits", 0, MaxDevices);
        var steps = r.ReadInts("steps held");
        FrameReader.Require(steps.All(s => s >= 0 && s < MaxDevices), "steps held must lie in [0, max devices)");
        return new LinkResume(jobId, link, epoch, credits, steps, ReadPass(ref r));
    }

    private static void WritePartition(FrameWriter w, PartitionLink m)
    {
        w.WriteString(m.JobId);
        w.WriteString(m.Fault);
        w.WriteBoolean(m.SenderCut);
        w.WriteBoolean(m.ReceiverCut);
        w.WriteInt64(m.Duration.Ticks);
    }

    private static PartitionLink ReadPartition(ref FrameReader r)
    {
        var jobId = ReadJobId(ref r);
        var fault = ReadReason(ref r, "fault");
        var senderCut = r.ReadBoolean("sender cut");
        var receiverCut = r.ReadBoolean("receiver cut");
        var ticks = r.ReadInt64("duration");
        FrameReader.Require(ticks > 0 && ticks <= TimeSpan.FromHours(1).Ticks, $"a partition lasts more than 0 and at most 1 hour, got {ticks} ticks");
        return new PartitionLink(jobId, fault, senderCut, receiverCut, TimeSpan.FromTicks(ticks));
    }

    private static void WriteRecover(FrameWriter w, RecoverChunk m)
    {
        w.WriteString(m.JobId);
        w.WriteInts(m.QueryPositions);
        w.WriteFloats(m.Queries);
        w.WriteInt32(m.Blocks.Count);
        foreach (var block in m.Blocks)
        {
            w.WriteInts(block.Positions);
            w.WriteFloats(block.Keys);
            w.WriteFloats(block.Values);
        }

        w.WriteActorRef(m.Predecessor);
        w.WriteActorRef(m.Successor);
        w.WriteActorRef(m.Supervisor);
    }

    private static RecoverChunk ReadRecover(ref FrameReader r)
    {
        var jobId = ReadJobId(ref r);
        var queryPositions = ReadPositions(ref r, "query positions");
        var queries = r.ReadFloats("queries");
        FrameReader.Require(
            queries.Length == 0 || (queryPositions.Length > 0 && queries.Length % queryPositions.Length == 0),
            $"queries hold {queries.Length} floats, not a whole chunk of {queryPositions.Length} tokens");
        var count = r.ReadInt32("blocks", 0, MaxDevices);
        // Each block takes at least three length prefixes: a forged count cannot outgrow the frame.
        FrameReader.Require(count * 12L <= r.Remaining, $"{count} blocks need at least {count * 12L} bytes, {r.Remaining} remain");
        var blocks = new KeyValueBlock[count];
        for (var i = 0; i < count; i++)
        {
            var positions = ReadPositions(ref r, "block positions");
            var (keys, values) = ReadKeyValues(ref r, positions.Length);
            blocks[i] = new KeyValueBlock(keys, values, positions);
        }

        return new RecoverChunk(jobId, queries, queryPositions, blocks, r.ReadActorRef("predecessor"), r.ReadActorRef("successor"), r.ReadActorRef("supervisor"));
    }

    private static long SizeOfRecover(RecoverChunk m) =>
        Str(m.JobId) + FrameWriter.SizeOfArray4(m.QueryPositions.Length) + Floats(m.Queries) + 4
        + m.Blocks.Sum(b => FrameWriter.SizeOfArray4(b.Positions.Length) + Floats(b.Keys) + Floats(b.Values))
        + Ref(m.Predecessor) + Ref(m.Successor) + Ref(m.Supervisor);

    private static void WriteKilled(FrameWriter w, DeviceKilled m)
    {
        w.WriteString(m.JobId);
        w.WriteInt32(m.Device);
        w.WriteInt32(m.Step);
        w.WriteInt64(m.At);
        WriteTimeline(w, m.Timeline);
    }

    private static DeviceKilled ReadKilled(ref FrameReader r)
    {
        var jobId = ReadJobId(ref r);
        var device = ReadDevice(ref r);
        return new DeviceKilled(jobId, device, ReadDevice(ref r, "step"), r.ReadInt64("at"), ReadTimeline(ref r, device));
    }

    private static void WriteLinkFailed(FrameWriter w, LinkFailed m)
    {
        w.WriteString(m.JobId);
        w.WriteInt32(m.Link);
        w.WriteInt32(m.Step);
        w.WriteInt32(m.Origin);
        w.WriteInt32(m.Attempts);
        w.WriteString(m.Reason);
    }

    private static LinkFailed ReadLinkFailed(ref FrameReader r) =>
        new(ReadJobId(ref r), ReadDevice(ref r, "link"), ReadDevice(ref r, "step"), ReadDevice(ref r, "origin"), r.ReadInt32("attempts", 0, int.MaxValue), ReadReason(ref r, "reason"));

    private static void WriteFaultObserved(FrameWriter w, FaultObserved m)
    {
        w.WriteString(m.JobId);
        var e = m.Event;
        w.WriteString(e.Fault);
        w.WriteString(e.Where);
        w.WriteInt64(e.InjectedAt);
        w.WriteInt64(e.DetectedAt);
        w.WriteInt64(e.RecoveredAt);
        w.WriteString(e.Recovery);
        w.WriteInt32(e.Retransmissions);
        w.WriteInt64(e.ExtraBytes);
    }

    private static long SizeOfFault(FaultEvent e) => Str(e.Fault) + Str(e.Where) + 24 + Str(e.Recovery) + 4 + 8;

    private static FaultObserved ReadFaultObserved(ref FrameReader r)
    {
        var jobId = ReadJobId(ref r);
        var fault = ReadReason(ref r, "fault");
        var where = ReadReason(ref r, "where");
        var injected = r.ReadInt64("injected at");
        var detected = r.ReadInt64("detected at");
        var recovered = r.ReadInt64("recovered at");
        var recovery = ReadReason(ref r, "recovery");
        return new FaultObserved(jobId, new FaultEvent(fault, where, injected, detected, recovered, recovery, r.ReadInt32("retransmissions", 0, int.MaxValue), r.ReadInt64("extra bytes")));
    }

    /// <summary>
    /// A device's setup travels when the device is deployed on another node (its Props' argument). The pattern goes as its
    /// spec string (+ seed, causal) and is parsed again on the device's node; a pattern without a spec, top-k (it needs the
    /// whole input), virtual time and test hooks cannot travel and are refused when written.
    /// </summary>
    private static void WriteSetup(FrameWriter w, DeviceSetup s)
    {
        if (s.Options.Pattern is not null && s.PatternSpec is null)
        {
            throw new System.Runtime.Serialization.SerializationException(
                $"device {s.Device} of job {s.JobId}: a pattern object cannot travel to another node; give its spec (DeviceSetup.PatternSpec)");
        }

        if (s.PatternSpec is { } spec && PatternCost.ReadsFile(spec))
        {
            throw new System.Runtime.Serialization.SerializationException(
                $"device {s.Device} of job {s.JobId}: pattern '{spec}' reads its layout from a file, which the device's node cannot be asked to open; write the layout inline");
        }

        if (s.VirtualTime is not null || s.Hooks.ComputeDelay != TimeSpan.Zero || s.Hooks.Loses != LostMessages.None)
        {
            throw new System.Runtime.Serialization.SerializationException(
                $"device {s.Device} of job {s.JobId}: virtual time and test hooks run in one process only");
        }

        w.WriteString(s.JobId);
        w.WriteInt32(s.Device);
        w.WriteInt32(s.Devices);
        w.WriteInt32(s.SeqLen);
        w.WriteInt32(s.Heads.Batch);
        w.WriteInt32(s.Heads.Heads);
        w.WriteInt32(s.Heads.KvHeads);
        w.WriteInt32(s.Heads.HeadDim);
        w.WriteBoolean(s.Options.Causal);
        w.WriteString(s.PatternSpec ?? string.Empty);
        w.WriteInt32(s.PatternSeed);
        w.WriteBoolean(s.Options.Scale.HasValue);
        w.WriteSingle(s.Options.Scale ?? 0);
        w.WriteInt32(s.Options.Threads);
        w.WriteInt32(s.MaxBlocksHeld);
        w.WriteString(s.ComputeDispatcher);
        w.WriteInt32(s.Epoch);
        w.WriteBoolean(s.Phantom);
        w.WriteByte((byte)s.PartialPrecision);
        w.WriteBoolean(s.Backward);

        // The fault plan's device faults (kill-device, slow-device) travel with the device.
        w.WriteInt32(s.Hooks.FailingDevice);
        w.WriteInt32(s.Hooks.FailAtStep);
        w.WriteBoolean(s.Hooks.StopInsteadOfThrowing);
        w.WriteDouble(s.Hooks.SlowFactor);

        // The fault plan drives the device's outbound link (acknowledgements, retransmission, drop/delay/duplicate).
        w.WriteInt32(s.Trial);
        w.WriteBoolean(s.Faults is not null);
        if (s.Faults is { } plan)
        {
            w.WriteInt32(plan.Seed);
            w.WriteInt32(plan.Retries);
            w.WriteInt64(plan.Timeout.Ticks);
            w.WriteInt32(plan.MaxRestarts);
            w.WriteInt32(plan.Faults.Count);
            foreach (var fault in plan.Faults)
            {
                w.WriteString(fault.ToString());
            }
        }
    }

    private static long SizeOfSetup(DeviceSetup s) =>
        Str(s.JobId) + (4 * 7) + 1 + Str(s.PatternSpec ?? string.Empty) + 4 + 1 + 4 + 4 + 4 + Str(s.ComputeDispatcher) + 4 + 1 + 1 + 1 + 4 + 4 + 1 + 8
        + 4 + 1 + (s.Faults is { } plan ? 4 + 4 + 8 + 4 + 4 + plan.Faults.Sum(f => Str(f.ToString())) : 0);

    /// <summary>Most faults one plan may carry on the wire.</summary>
    private const int MaxFaults = 256;

    private static FaultPlan? ReadPlan(ref FrameReader r)
    {
        if (!r.ReadBoolean("has fault plan"))
        {
            return null;
        }

        var seed = r.ReadInt32("fault seed");
        var retries = r.ReadInt32("retries", 0, 100);
        var timeout = r.ReadInt64("ack timeout");
        FrameReader.Require(timeout > 0 && timeout <= TimeSpan.FromMinutes(10).Ticks, $"ack timeout must be in (0, 10 min], got {timeout} ticks");
        var maxRestarts = r.ReadInt32("max restarts", 0, 1000);
        var count = r.ReadInt32("faults", 0, MaxFaults);
        var faults = new List<FaultSpec>(count);
        for (var i = 0; i < count; i++)
        {
            var spec = ReadReason(ref r, "fault");
            try
            {
                faults.Add(FaultSpec.Parse(spec));
            }
            catch (ArgumentException error)
            {
                FrameReader.Fail($"fault '{spec}': {error.Message}");
            }
        }

        return new FaultPlan(faults, seed, retries, TimeSpan.FromTicks(timeout), maxRestarts);
    }

    /// <summary>
    /// A setup is checked whole before it is used: device numbers within its own device count, and the pattern's cost
    /// (<see cref="PatternCost"/>, against max-pattern-bytes) before the spec is parsed — the sequence length alone may be up
    /// to int.MaxValue, which a window pattern does not mind and a BigBird one could not survive.
    /// </summary>
    private DeviceSetup ReadSetup(ref FrameReader r)
    {
        var jobId = ReadJobId(ref r);
        var device = ReadDevice(ref r);
        var devices = r.ReadInt32("devices", device + 1, MaxDevices);
        var seqLen = r.ReadInt32("sequence length", devices, int.MaxValue);
        var heads = new AttentionHeads(r.ReadInt32("batch", 1, 1 << 16), r.ReadInt32("heads", 1, 1 << 16), r.ReadInt32("kv heads", 1, 1 << 16), r.ReadInt32("head dim", 1, 1 << 16));
        FrameReader.Require(heads.Heads % heads.KvHeads == 0, $"heads ({heads.Heads}) must be a multiple of kv heads ({heads.KvHeads})");
        var causal = r.ReadBoolean("causal");
        var spec = ReadReason(ref r, "pattern spec");
        var seed = r.ReadInt32("pattern seed");
        var hasScale = r.ReadBoolean("has scale");
        var scale = r.ReadSingle("scale");
        FrameReader.Require(!hasScale || float.IsFinite(scale), $"scale must be finite, got {scale}");
        var threads = r.ReadInt32("threads", 1, 4096);
        var maxBlocks = r.ReadInt32("max blocks held", 2, MaxDevices);
        var dispatcher = ReadReason(ref r, "compute dispatcher");
        var epoch = r.ReadInt32("epoch", 0, int.MaxValue);
        var phantom = r.ReadBoolean("phantom");
        FrameReader.Require(!phantom, "a phantom device needs virtual time, which does not travel");
        var precision = r.ReadByte("partial precision");
        FrameReader.Require(Enum.IsDefined((PartialPrecision)precision), $"unknown partial precision {precision}");
        var backward = r.ReadBoolean("backward");
        // -1: no device fails; steps run 0..P−1 like devices (0..2P−1 with a backward pass).
        var hooks = new DeviceHooks(TimeSpan.Zero, r.ReadInt32("failing device", -1, devices - 1), r.ReadInt32("fail at step", -1, (backward ? 2 * devices : devices) - 1), r.ReadBoolean("stop"), r.ReadDouble("slow factor"));
        FrameReader.Require(hooks.SlowFactor is >= 1 and <= 1000, $"slow factor must be in [1, 1000], got {hooks.SlowFactor}");
        var trial = r.ReadInt32("trial", 0, int.MaxValue);
        var plan = ReadPlan(ref r);
        AttentionPattern? pattern = null;
        if (spec.Length > 0)
        {
            FrameReader.Require(!PatternCost.ReadsFile(spec), "the pattern spec names a layout file, a path on the sender's machine: layouts travel inline");
            var cost = PatternCost.TableBytes(spec, seqLen);
            FrameReader.Require(
                cost <= Settings.MaxPatternBytes,
                $"the pattern spec over {seqLen} tokens would take about {cost} bytes to build, over ring-actors.transport.max-pattern-bytes = {Settings.MaxPatternBytes}");
            try
            {
                pattern = Math.Masks.PatternSpec.Parse(spec, new PatternContext(seqLen, seed, causal));
            }
            catch (Exception error)
            {
                // ArgumentException for a bad spec, but an OverflowException (or anything else) must not escape either.
                FrameReader.Fail($"pattern spec refused ({error.GetType().Name}): {error.Message}");
            }
        }

        var setup = new DeviceSetup(jobId, device, devices, seqLen, heads, new AttentionOptions(causal, pattern, hasScale ? scale : null, threads), maxBlocks, dispatcher)
        {
            PatternSpec = spec.Length > 0 ? spec : null,
            PatternSeed = seed,
            Epoch = epoch,
            Hooks = hooks,
            Trial = trial,
            Faults = plan,
            PartialPrecision = (PartialPrecision)precision,
            Backward = backward,
        };
        try
        {
            return setup.Validate();
        }
        catch (ArgumentException error)
        {
            throw new System.Runtime.Serialization.SerializationException($"malformed frame: device setup: {error.Message}", error);
        }
    }
}
