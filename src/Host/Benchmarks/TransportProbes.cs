using System.Diagnostics;
using Akka.Actor;
using Akka.Delivery;
using Akka.Serialization;
using RingActors.Actors.Serialization;
using static RingActors.Actors.Protocol.LinkProtocol;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Host.Benchmarks;

/// <summary>What one timed run of hand-offs measured: from the first send to the last acknowledgement.</summary>
/// <param name="ApplicationBytes">Serialized bytes the sender handed to the transport (headers and chunk framing included).</param>
public sealed record TransferResult(int Count, long PayloadBytes, long ApplicationBytes, double Seconds);

/// <summary>
/// Sends <c>count</c> frames of <c>block</c> to a receiver on another node through <see cref="RingWire"/> (chunked above
/// max-message-bytes), keeping at most <c>window</c> unacknowledged — the ring's credit limit of two blocks — and completes
/// with the time from the first send to the last <see cref="LinkAck"/>.
/// </summary>
public sealed class WireSender : ReceiveActor
{
    private readonly IActorRef _receiver;
    private readonly AcceptBlock _block;
    private readonly int _count;
    private readonly int _window;
    private readonly TaskCompletionSource<TransferResult> _done;
    private readonly Stopwatch _clock = new();
    private long _sent;
    private long _acked;
    private long _bytes;

    public WireSender(IActorRef receiver, AcceptBlock block, int count, int window, TaskCompletionSource<TransferResult> done)
    {
        _receiver = receiver;
        _block = block;
        _count = count;
        _window = window;
        _done = done;
        Receive<LinkAck>(Acknowledged);
        Receive<LinkRefused>(refused => _done.TrySetException(new InvalidOperationException($"frame {refused.Sequence} refused: {refused.Reason}")));
    }

    public static Props Props(IActorRef receiver, AcceptBlock block, int count, int window, TaskCompletionSource<TransferResult> done) =>
        Akka.Actor.Props.Create(() => new WireSender(receiver, block, count, window, done));

    protected override void PreStart()
    {
        _clock.Start();
        while (_sent < System.Math.Min(_window, _count))
        {
            SendNext();
        }
    }

    private void Acknowledged(LinkAck ack)
    {
        _acked++;
        if (_acked == _count)
        {
            _clock.Stop();
            _done.TrySetResult(new TransferResult(_count, _count * _block.PayloadBytes, _bytes, _clock.Elapsed.TotalSeconds));
            Context.Stop(Self);
            return;
        }

        if (_sent < _count)
        {
            SendNext();
        }
    }

    private void SendNext()
    {
        var frame = new LinkFrame(_block.JobId, 0, 0, 0, _sent, _block);
        _bytes += RingWire.Tell(Context.System, _receiver, frame, Self);
        _sent++;
    }
}

/// <summary>
/// The receiving end of <see cref="WireSender"/>, deployed on the other node: reassembles chunks with a <see cref="WireInbox"/>
/// as a ring device does, and answers every whole <see cref="LinkFrame"/> with a <see cref="LinkAck"/>.
/// </summary>
public sealed class WireReceiver : ReceiveActor
{
    private readonly WireInbox _inbox;

    public WireReceiver()
    {
        _inbox = new WireInbox(Context.System);
        Receive<BlockChunk>(chunk =>
        {
            if (_inbox.Accept(chunk, Sender).Message is LinkFrame frame)
            {
                Acknowledge(frame);
            }
        });
        Receive<LinkFrame>(Acknowledge);
    }

    public static Props Props() => Akka.Actor.Props.Create<WireReceiver>();

    private void Acknowledge(LinkFrame frame) => Sender.Tell(new LinkAck(frame.JobId, frame.Link, frame.SenderEpoch, frame.Sequence, Duplicate: false));
}

/// <summary>
/// A hand-off as Akka.Delivery carries it: the ProducerController serializes the whole message itself before it chunks it
/// (chunk-large-messages), and <see cref="RingMessageSerializer"/>'s ToBinary refuses anything over max-message-bytes, so the
/// block travels as <see cref="FrameSerializer.Pack"/> bytes (the same format RingWire chunks) under its own binding.
/// </summary>
public sealed record PackedBlock(AcceptBlock Block);

/// <summary>Serializes <see cref="PackedBlock"/> with <see cref="FrameSerializer.Pack"/>/<see cref="FrameSerializer.Unpack"/>; bound only by bench transport's config.</summary>
public sealed class PackedBlockSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Next to RingMessageSerializer's 4110.</summary>
    public const int Id = 4111;

    private readonly Lazy<RingMessageSerializer> _ring = new(() => (RingMessageSerializer)system.Serialization.FindSerializerForType(typeof(BlockChunk)));

    public override int Identifier => Id;

    public override string Manifest(object o) => "PB";

    public override byte[] ToBinary(object obj) => _ring.Value.Pack(((PackedBlock)obj).Block);

    public override object FromBinary(byte[] bytes, string manifest) => new PackedBlock((AcceptBlock)_ring.Value.Unpack(bytes));
}

/// <summary>
/// The producer of the Akka.Delivery path: sends <c>count</c> copies of the block through a local ProducerController, each
/// with a confirmation, keeping at most <c>window</c> unconfirmed (and only when the controller asks for the next one),
/// and completes with the time from the first send to the last confirmation.
/// </summary>
public sealed class DeliverySender : ReceiveActor
{
    private readonly IActorRef _producerController;
    private readonly PackedBlock _block;
    private readonly int _count;
    private readonly int _window;
    private readonly TaskCompletionSource<TransferResult> _done;
    private readonly Stopwatch _clock = new();
    private IActorRef? _sendNextTo;
    private int _sent;
    private int _confirmed;

    public DeliverySender(IActorRef producerController, PackedBlock block, int count, int window, TaskCompletionSource<TransferResult> done)
    {
        _producerController = producerController;
        _block = block;
        _count = count;
        _window = window;
        _done = done;
        Receive<ProducerController.RequestNext<PackedBlock>>(next =>
        {
            _sendNextTo = next.SendNextTo;
            TrySend();
        });
        Receive<long>(_ =>
        {
            _confirmed++;
            if (_confirmed == _count)
            {
                _clock.Stop();
                var payload = _count * _block.Block.PayloadBytes;
                _done.TrySetResult(new TransferResult(_count, payload, _count * PackedSize(), _clock.Elapsed.TotalSeconds));
                return;
            }

            TrySend();
        });
    }

    public static Props Props(IActorRef producerController, PackedBlock block, int count, int window, TaskCompletionSource<TransferResult> done) =>
        Akka.Actor.Props.Create(() => new DeliverySender(producerController, block, count, window, done));

    protected override void PreStart() => _producerController.Tell(new ProducerController.Start<PackedBlock>(Self));

    /// <summary>Bytes of the block as the ProducerController serializes it (before Akka.Delivery's own chunk envelopes).</summary>
    private long PackedSize()
    {
        // Pack writes a version byte and the manifest, then the message's own frame (which starts with its version byte).
        var ring = (RingMessageSerializer)Context.System.Serialization.FindSerializerForType(typeof(BlockChunk));
        return 1 + FrameWriter.SizeOfString(ring.Manifest(_block.Block)) + ring.FrameSize(_block.Block);
    }

    private void TrySend()
    {
        // A RequestNext is the controller's demand for exactly one message; the window caps blocks awaiting confirmation.
        if (_sendNextTo is null || _sent >= _count || _sent - _confirmed >= _window)
        {
            return;
        }

        if (_sent == 0)
        {
            _clock.Start();
        }

        _sendNextTo.Tell(new ProducerController.MessageWithConfirmation<PackedBlock>(_block, Self));
        _sendNextTo = null;
        _sent++;
    }
}

/// <summary>
/// The consumer of the Akka.Delivery path, deployed on the other node: starts its ConsumerController as the child
/// <see cref="ControllerName"/> with a flow-control window of <c>window</c> messages (chunks count one each) and confirms
/// every delivery.
/// </summary>
public sealed class DeliveryReceiver : ReceiveActor
{
    public const string ControllerName = "consumer-controller";

    private readonly int _window;

    public DeliveryReceiver(int window)
    {
        _window = window;
        Receive<ConsumerController.Delivery<PackedBlock>>(delivery => delivery.ConfirmTo.Tell(ConsumerController.Confirmed.Instance));
    }

    public static Props Props(int window) => Akka.Actor.Props.Create(() => new DeliveryReceiver(window));

    protected override void PreStart()
    {
        var settings = ConsumerController.Settings.Create(Context.System) with { FlowControlWindow = _window };
        var controller = Context.ActorOf(ConsumerController.Create<PackedBlock>(Context, Akka.Util.Option<IActorRef>.None, settings), ControllerName);
        controller.Tell(new ConsumerController.Start<PackedBlock>(Self));
    }
}
