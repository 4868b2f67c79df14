using RingActors.Math;
using RingActors.Math.Masks;

namespace RingActors.Host.Cli;

/// <summary>Turns a --pattern value into a sparse pattern of the problem.</summary>
public static class CommandPatterns
{
    public static AttentionPattern Parse(string spec, AttentionInput input, bool causal, int seed)
    {
        _ = input;
        _ = causal;
        _ = seed;
        throw new ArgumentException($"unknown pattern '{spec}'", nameof(spec));
    }
}
