using RingActors.Math.Masks;

namespace RingActors.Actors.Tests;

/// <summary>A bidirectional sliding window |i − j| ≤ w/2 for the tests, with an exact range-based classification.</summary>
internal sealed class WindowPattern(int width) : StaticPattern
{
    public override string Name => $"window:{width}";

    public override bool Allows(int query, int key) => System.Math.Abs(query - key) <= width / 2;

    public override BlockCoverage Classify(ReadOnlySpan<int> queries, ReadOnlySpan<int> keys) =>
        queries.IsEmpty || keys.IsEmpty ? BlockCoverage.Empty
        : Gap(Coverage.Range(queries), Coverage.Range(keys)) > width / 2 ? BlockCoverage.Empty
        : Coverage.BruteForce(this, queries, keys);

    private static int Gap((int Min, int Max) a, (int Min, int Max) b) =>
        System.Math.Max(0, System.Math.Max(a.Min - b.Max, b.Min - a.Max));
}
