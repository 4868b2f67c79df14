using Akka.TestKit.Xunit2;
using RingActors.Actors.Configuration;
using RingActors.Math;
using Xunit.Abstractions;

namespace RingActors.Actors.Tests;

/// <summary>
/// An ActorSystem configured as the local deployment (hocon/local.conf over reference.conf) with
/// <c>serialize-messages = on</c> and the ring serializer bound as on a cluster node: every message an actor spec sends
/// goes through <see cref="RingActors.Actors.Serialization.RingMessageSerializer"/> and back, so a message that could not cross to another
/// node fails here. Messages that never leave their process are marked <c>INoSerializationVerificationNeeded</c>.
/// </summary>
public abstract class RingTestKit(ITestOutputHelper output, bool serializeMessages = true)
    : TestKit(serializeMessages ? SpecConfig : UnverifiedConfig, output: output)
{
    /// <summary>
    /// serialize-messages on over the cluster defaults (the ring serializer's bindings; their remoting and cluster keys
    /// mean nothing to a local provider) over the local deployment.
    /// </summary>
    public static Akka.Configuration.Config SpecConfig { get; } = RingActorsConfig.Local(
        Akka.Configuration.ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.actor.serialize-messages = on")
            .WithFallback(RingActors.Actors.Configuration.ClusterDefaults.Config));

    /// <summary>For a spec that compares messages by reference after sending them (a round trip makes new arrays).</summary>
    public static Akka.Configuration.Config UnverifiedConfig { get; } = RingActorsConfig.Local("akka.loglevel = WARNING\nakka.actor.serialize-messages = off");

    /// <summary>The float64 oracle's output rows of the given positions, [B, H, positions, d].</summary>
    internal static double[] OracleRows(AttentionInput input, AttentionOptions options, int[] positions)
    {
        var shape = input.Shape;
        var (expected, _) = ReferenceAttention.Compute(input, options);
        var rows = new double[shape.Batch * shape.Heads * positions.Length * shape.HeadDim];
        var outer = shape.Batch * shape.Heads;
        for (var o = 0; o < outer; o++)
        {
            for (var i = 0; i < positions.Length; i++)
            {
                Array.Copy(expected, ((o * shape.SeqLen) + positions[i]) * shape.HeadDim, rows, ((o * positions.Length) + i) * shape.HeadDim, shape.HeadDim);
            }
        }

        return rows;
    }
}
