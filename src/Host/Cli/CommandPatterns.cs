using RingActors.Math;
using RingActors.Math.Masks;

namespace RingActors.Host.Cli;

/// <summary>Turns a --pattern value into a sparse pattern of the problem (grammar: <see cref="PatternSpec.Help"/>).</summary>
public static class CommandPatterns
{
    public static AttentionPattern Parse(string spec, AttentionInput input, bool causal, int seed) =>
        PatternSpec.Parse(spec, new PatternContext(input.Shape.SeqLen, seed, causal, input));
}
