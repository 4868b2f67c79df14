using RingActors.Math;

namespace RingActors.Actors;

/// <summary>
/// The backward pass a ring job runs after its forward: the gradient of the loss with respect to the attention output,
/// dO [B, H, N, d] float32 in the original token order (the layout of Q).
/// </summary>
public sealed record BackwardPass(float[] OutputGradient)
{
    /// <summary>Throws an <see cref="ArgumentException"/> when dO does not fit <paramref name="shape"/> or holds a value that is not finite.</summary>
    public void Validate(AttentionShape shape)
    {
        ArgumentNullException.ThrowIfNull(OutputGradient, nameof(OutputGradient));
        if (OutputGradient.Length != shape.QueryLength)
        {
            throw new ArgumentException(
                $"the output gradient holds {OutputGradient.Length} values, the queries {shape.QueryLength} ([{shape.Batch},{shape.Heads},{shape.SeqLen},{shape.HeadDim}])",
                nameof(OutputGradient));
        }

        var bad = Array.FindIndex(OutputGradient, value => !float.IsFinite(value));
        if (bad >= 0)
        {
            throw new ArgumentException($"the output gradient's element {bad} is {OutputGradient[bad]}: every value must be finite", nameof(OutputGradient));
        }
    }
}
