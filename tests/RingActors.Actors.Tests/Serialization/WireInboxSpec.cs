using Akka.Actor;
using Akka.Configuration;
using RingActors.Actors.Configuration;
using RingActors.Actors.Serialization;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors.Tests.Serialization;

/// <summary>
/// The receiving side of chunked transfers: one assembler per link (the same transfer id from two senders names two
/// payloads), but what peers may make it hold is bounded per receiver — one byte budget over every sender, a cap on the
/// senders with partial transfers, a timeout on idle transfers — and nothing a peer sends makes it throw.
/// </summary>
public class WireInboxSpec() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory
    .ParseString("""
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp.port = 0
        ring-actors.transport {
          max-message-bytes = 1 KiB
          max-string-bytes = 1 KiB
          max-transfer-bytes = 4 KiB
          max-inbox-bytes = 4 KiB
          max-concurrent-transfers = 1
          max-senders = 2
          transfer-timeout = 60s
        }
        """)
    .WithFallback(ClusterDefaults.NodeDefaults))
{
    private static readonly BlockChunker Chunker = new(100);

    private RingMessageSerializer Serializer => (RingMessageSerializer)Sys.Serialization.FindSerializerForType(typeof(BlockChunk));

    [Fact]
    public void WireInbox_must_give_refusals_that_differ_only_in_their_numbers_one_kind()
    {
        var a = WireInbox.KindOf("chunked transfer 3 from akka.tcp://ring@127.0.0.1:4053/user/ring-1 refused and dropped: 4 transfers already pending");
        var b = WireInbox.KindOf("chunked transfer 11172 from akka.tcp://ring@127.0.0.1:40999/user/ring-12 refused and dropped: 4 transfers already pending");
        Assert.Equal(a, b);
        Assert.Equal("wire chunked transfer # from akka.tcp://ring@#.#.#.#:#/user/ring-# refused and dropped: # transfers already pending", a);
        Assert.NotEqual(a, WireInbox.KindOf("chunked transfer 3 from akka.tcp://ring@127.0.0.1:4053/user/ring-1 refused and dropped: its 20 bytes do not decode"));
    }

    [Fact]
    public void WireInbox_must_reassemble_the_same_transfer_id_from_two_senders_interleaved_with_one_transfer_per_link()
    {
        var first = new StartRing(new string('a', 250));
        var second = new StartRing(new string('b', 250));
        var fromFirst = Chunker.Split(7, Serializer.Pack(first));
        var fromSecond = Chunker.Split(7, Serializer.Pack(second));
        var inbox = new WireInbox(Sys);
        var senderA = CreateTestProbe().Ref;
        var senderB = CreateTestProbe().Ref;

        var delivered = new List<object>();
        for (var i = 0; i < fromFirst.Count; i++)
        {
            delivered.AddRange(new[] { inbox.Accept(fromFirst[i], senderA).Message, inbox.Accept(fromSecond[i], senderB).Message }.OfType<object>());
        }

        Assert.Equal([first, second], delivered);
        Assert.Equal(2, inbox.Links);
        Assert.Equal(0, inbox.Budget.HeldBytes);
    }

    [Fact]
    public void WireInbox_must_refuse_a_second_pending_transfer_on_one_link_once_and_drop_its_stragglers_without_throwing()
    {
        var inbox = new WireInbox(Sys);
        var sender = CreateTestProbe().Ref;
        var pending = Chunker.Split(1, Serializer.Pack(new StartRing(new string('a', 250))));
        var second = Chunker.Split(2, Serializer.Pack(new StartRing(new string('b', 250))));

        Assert.Equal(ChunkStatus.Pending, inbox.Accept(pending[0], sender).Status);
        var refused = inbox.Accept(second[0], sender);
        Assert.Equal(ChunkStatus.Refused, refused.Status);
        Assert.Contains($"chunked transfer 2 from {sender.Path} refused and dropped", refused.Reason);
        Assert.Contains("max-concurrent-transfers = 1", refused.Reason);

        var straggler = inbox.Accept(second[1], sender);
        Assert.Equal(ChunkStatus.Dropped, straggler.Status);
        Assert.Null(straggler.Reason);
        Assert.Equal(1, inbox.PendingTransfers);
    }

    [Fact]
    public void WireInbox_must_bound_the_bytes_of_all_senders_together_by_max_inbox_bytes()
    {
        // Two senders, each within its own caps (one transfer of at most max-transfer-bytes), together over the receiver's budget.
        var inbox = new WireInbox(Sys);
        var senders = new[] { CreateTestProbe().Ref, CreateTestProbe().Ref };
        // ≈ 1.8 KB in 19 chunks cost ≈ 3.2 KiB with their overhead: one fits the 4 KiB budget, two do not.
        var blocks = senders.Select((_, s) => Block(fill: s + 1)).ToArray();
        var transfers = blocks.Select(block => Chunker.Split(1, Serializer.Pack(block))).ToArray();
        Assert.All(transfers, chunks => Assert.True(chunks.Sum(chunk => chunk.Bytes.Length) <= inbox.Settings.MaxTransferBytes));

        var refusals = new List<(int Sender, string Reason)>();
        var delivered = new List<object>();
        for (var i = 0; i < transfers[0].Count; i++)
        {
            for (var s = 0; s < senders.Length; s++)
            {
                var result = inbox.Accept(transfers[s][i], senders[s]);
                Assert.InRange(inbox.Budget.HeldBytes, 0, inbox.Settings.MaxInboxBytes);
                if (result.Reason is { } reason)
                {
                    refusals.Add((s, reason));
                }

                if (result.Message is { } message)
                {
                    delivered.Add(message);
                }
            }
        }

        // The budget ran out while both were pending: the sender whose chunk did not fit lost its transfer (reported once),
        // the other one's transfer completed.
        var (loser, why) = Assert.Single(refusals);
        Assert.Contains($"max-inbox-bytes = {inbox.Settings.MaxInboxBytes}", why);
        Assert.Equal(blocks[1 - loser].Keys, Assert.IsType<AcceptBlock>(Assert.Single(delivered)).Keys);
        Assert.Equal(0, inbox.PendingTransfers);
        Assert.Equal(0, inbox.Budget.HeldBytes);
    }

    [Fact]
    public void WireInbox_must_cap_the_senders_with_partial_transfers_and_let_an_idle_link_make_room()
    {
        var inbox = new WireInbox(Sys);
        var (a, b, c) = (CreateTestProbe().Ref, CreateTestProbe().Ref, CreateTestProbe().Ref);
        var message = new StartRing(new string('x', 250));
        var fromA = Chunker.Split(1, Serializer.Pack(message));
        var fromB = Chunker.Split(1, Serializer.Pack(message));
        var fromC = Chunker.Split(1, Serializer.Pack(message));

        inbox.Accept(fromA[0], a);
        inbox.Accept(fromB[0], b);
        var refused = inbox.Accept(fromC[0], c);
        Assert.Equal(ChunkStatus.Refused, refused.Status);
        Assert.Contains("2 senders already have partial transfers here (max-senders = 2)", refused.Reason);
        Assert.Equal(ChunkStatus.Dropped, inbox.Accept(fromC[1], c).Status);

        // A finishes: its link is idle, so a new transfer of C is taken.
        // ToList: Select(…).Last() over a list would run the selector on the last chunk only.
        var delivered = fromA.Skip(1).Select(chunk => inbox.Accept(chunk, a)).ToList()[^1];
        Assert.Equal(message, delivered.Message);
        var again = Chunker.Split(2, Serializer.Pack(message));
        Assert.Equal(ChunkStatus.Pending, inbox.Accept(again[0], c).Status);
        Assert.Equal(2, inbox.Senders);
    }

    [Fact]
    public void WireInbox_must_free_a_transfer_idle_for_the_transfer_timeout_and_drop_its_later_chunks()
    {
        var clock = new ManualClock();
        var inbox = new WireInbox(Sys, clock);
        var (a, b) = (CreateTestProbe().Ref, CreateTestProbe().Ref);
        var fromA = Chunker.Split(1, Serializer.Pack(new StartRing(new string('a', 250))));
        var fromB = Chunker.Split(1, Serializer.Pack(new StartRing(new string('b', 250))));

        inbox.Accept(fromA[0], a);
        clock.Advance(TimeSpan.FromSeconds(30));
        inbox.Accept(fromB[0], b);
        var heldByB = inbox.Budget.HeldBytes - (ChunkAssembler.TransferOverheadBytes + fromA[0].Bytes.Length + ChunkAssembler.ChunkOverheadBytes);

        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, inbox.Sweep().Transfers); // A has been idle for exactly the timeout, B for half of it
        Assert.Equal(heldByB, inbox.Budget.HeldBytes);
        Assert.Equal(ChunkStatus.Dropped, inbox.Accept(fromA[1], a).Status);

        var last = fromB.Skip(1).Select(chunk => inbox.Accept(chunk, b)).ToList()[^1];
        Assert.IsType<StartRing>(last.Message);
        Assert.Equal(0, inbox.Budget.HeldBytes);
    }

    [Fact]
    public void WireInbox_must_refuse_a_complete_transfer_whose_payload_does_not_decode_instead_of_throwing()
    {
        var inbox = new WireInbox(Sys);
        var garbage = Enumerable.Range(0, 250).Select(i => (byte)(i * 31)).ToArray();
        garbage[0] = RingMessageSerializer.FrameVersion;
        var results = Chunker.Split(5, garbage).Select(chunk => inbox.Accept(chunk, TestActor)).ToList();

        var refused = results[^1];
        Assert.Equal(ChunkStatus.Refused, refused.Status);
        Assert.Contains("do not decode", refused.Reason);
        Assert.Contains("malformed frame", refused.Reason);
    }

    [Fact]
    public void WireInbox_must_schedule_its_sweep_only_while_transfers_are_pending()
    {
        var inbox = new WireInbox(Sys);
        var timers = new RecordingTimers();
        inbox.ScheduleSweep(timers);
        Assert.Empty(timers.Started);

        inbox.Accept(Chunker.Split(1, Serializer.Pack(new StartRing(new string('a', 250))))[0], TestActor);
        inbox.ScheduleSweep(timers);
        inbox.ScheduleSweep(timers);
        var (key, message, after) = Assert.Single(timers.Started);
        Assert.Equal(WireInbox.SweepTimer, key);
        Assert.Same(WireInbox.SweepDue.Instance, message);
        Assert.Equal(TimeSpan.FromSeconds(60), after);
    }

    /// <summary>A block of 40 tokens × 5 floats of keys and values (≈ 1.8 KB packed), every float <paramref name="fill"/>.</summary>
    private static AcceptBlock Block(int fill) =>
        new("job-1", 0, 1, 0, 0, Enumerable.Repeat((float)fill, 200).ToArray(), Enumerable.Repeat((float)fill, 200).ToArray(), Enumerable.Range(0, 40).ToArray());

    /// <summary>A clock that moves only when told to.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    /// <summary>Records single timers started; <see cref="IsTimerActive"/> is true once a key was started.</summary>
    private sealed class RecordingTimers : ITimerScheduler
    {
        public List<(object Key, object Message, TimeSpan After)> Started { get; } = [];

        public void StartSingleTimer(object key, object msg, TimeSpan timeout) => Started.Add((key, msg, timeout));

        public void StartSingleTimer(object key, object msg, TimeSpan timeout, IActorRef sender) => Started.Add((key, msg, timeout));

        public bool IsTimerActive(object key) => Started.Any(started => Equals(started.Key, key));

        public void StartPeriodicTimer(object key, object msg, TimeSpan interval) => throw new NotSupportedException();

        public void StartPeriodicTimer(object key, object msg, TimeSpan interval, IActorRef sender) => throw new NotSupportedException();

        public void StartPeriodicTimer(object key, object msg, TimeSpan initialDelay, TimeSpan interval) => throw new NotSupportedException();

        public void StartPeriodicTimer(object key, object msg, TimeSpan initialDelay, TimeSpan interval, IActorRef sender) => throw new NotSupportedException();

        public void Cancel(object key) => Started.RemoveAll(started => Equals(started.Key, key));

        public void CancelAll() => Started.Clear();

        public IReadOnlyCollection<object> ActiveTimers => Started.Select(started => started.Key).ToList();
    }
}
