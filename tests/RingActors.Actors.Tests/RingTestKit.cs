using Akka.TestKit.Xunit2;
using RingActors.Math;
using Xunit.Abstractions;

namespace RingActors.Actors.Tests;

/// <summary>
/// An ActorSystem configured as the local deployment (hocon/local.conf over reference.conf).
/// <c>serialize-messages</c> stays off until the binary serializer of issue 4 exists: the default JSON serializer would
/// round-trip every float block at 30–100× the cost of the compute; the serializer spec will turn it on.
/// </summary>
public abstract class RingTestKit(ITestOutputHelper output)
    : TestKit(RingActorsConfig.Local("akka.loglevel = WARNING\nakka.actor.serialize-messages = off"), output: output)
{
    /// <summary>The float64 oracle's output rows of the given positions, [B, H, positions, d].</summary>
    protected static double[] OracleRows(AttentionInput input, AttentionOptions options, int[] positions)
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
