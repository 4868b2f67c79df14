using System.Runtime.Serialization;
using Akka.Configuration;
using RingActors.Actors.Configuration;
using RingActors.Actors.Serialization;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors.Tests.Serialization;

/// <summary>
/// The receiving side of chunked transfers keeps one assembler per link: the same transfer id from two senders names two
/// payloads, and max-concurrent-transfers bounds each sender, not the receiver.
/// </summary>
public class WireInboxSpec() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory
    .ParseString("akka.actor.provider = remote\nakka.remote.dot-netty.tcp.port = 0\nring-actors.transport.max-concurrent-transfers = 1")
    .WithFallback(ClusterDefaults.NodeDefaults))
{
    [Fact]
    public void WireInbox_must_reassemble_the_same_transfer_id_from_two_senders_interleaved_with_one_transfer_per_link()
    {
        var serializer = (RingMessageSerializer)Sys.Serialization.FindSerializerForType(typeof(BlockChunk));
        var first = new StartRing(new string('a', 250));
        var second = new StartRing(new string('b', 250));
        var chunker = new BlockChunker(100);
        var fromFirst = chunker.Split(7, serializer.Pack(first));
        var fromSecond = chunker.Split(7, serializer.Pack(second));
        var inbox = new WireInbox(Sys);
        var senderA = CreateTestProbe().Ref;
        var senderB = CreateTestProbe().Ref;

        var delivered = new List<object>();
        for (var i = 0; i < fromFirst.Count; i++)
        {
            delivered.AddRange(new[] { inbox.Accept(fromFirst[i], senderA), inbox.Accept(fromSecond[i], senderB) }.OfType<object>());
        }

        Assert.Equal([first, second], delivered);
        Assert.Equal(2, inbox.Links);
    }

    [Fact]
    public void WireInbox_must_refuse_a_second_pending_transfer_on_one_link_over_the_cap()
    {
        var serializer = (RingMessageSerializer)Sys.Serialization.FindSerializerForType(typeof(BlockChunk));
        var chunker = new BlockChunker(100);
        var inbox = new WireInbox(Sys);
        var sender = CreateTestProbe().Ref;

        Assert.Null(inbox.Accept(chunker.Split(1, serializer.Pack(new StartRing(new string('a', 250))))[0], sender));
        var error = Assert.Throws<SerializationException>(() => inbox.Accept(chunker.Split(2, serializer.Pack(new StartRing(new string('b', 250))))[0], sender));
        Assert.Contains("max-concurrent-transfers = 1", error.Message);
    }
}
