using RingActors.Math;

namespace RingActors.Actors;

/// <summary>Cuts attention problems down, for measuring how a method's cost grows with the sequence length.</summary>
public static class InputSlicing
{
    /// <summary>The same problem restricted to its first <paramref name="tokens"/> tokens (every batch and head keeps its first rows).</summary>
    public static AttentionInput Prefix(AttentionInput input, int tokens)
    {
        ArgumentNullException.ThrowIfNull(input);
        var shape = input.Shape;
        if (tokens < 1 || tokens > shape.SeqLen)
        {
            throw new ArgumentException($"a prefix must have 1..{shape.SeqLen} tokens, got {tokens}", nameof(tokens));
        }

        var positions = Enumerable.Range(0, tokens).ToArray();
        return new AttentionInput(
            shape.WithSeqLen(tokens),
            SequenceLayout.Gather(input.Q, shape.Batch * shape.Heads, shape.SeqLen, shape.HeadDim, positions),
            SequenceLayout.Gather(input.K, shape.Batch * shape.KvHeads, shape.SeqLen, shape.HeadDim, positions),
            SequenceLayout.Gather(input.V, shape.Batch * shape.KvHeads, shape.SeqLen, shape.HeadDim, positions));
    }
}
