using RingActors.Math.Masks;

namespace RingActors.Math.Tests;

/// <summary>Each pattern's rule written straight from ANCHORS.md §4, independent of the classes under test.</summary>
internal static class PatternDefinitions
{
    public static Func<int, int, bool> Window(int w) => (i, j) => System.Math.Abs(i - j) <= w / 2;

    public static Func<int, int, bool> CausalWindow(int w) => (i, j) => i - j >= 0 && i - j < w;

    public static Func<int, int, bool> Dilated(int w, int delta) => (i, j) => System.Math.Abs(i - j) <= w / 2 * delta && (i - j) % delta == 0;

    public static Func<int, int, bool> Global(params int[] g) => (i, j) => g.Contains(j) || g.Contains(i);

    public static Func<int, int, bool> Strided(int l) => (i, j) => j <= i && (i - l < j || (i - j) % l == 0);

    public static Func<int, int, bool> Fixed(int l, int c) => (i, j) => j / l == i / l || j % l >= l - c;

    public static Func<int, int, bool> Layout(int b, bool[,] layout) =>
        (i, j) => i / b < layout.GetLength(0) && j / b < layout.GetLength(1) && layout[i / b, j / b];

    public static Func<int, int, bool> Any(params Func<int, int, bool>[] members) => (i, j) => members.Any(member => member(i, j));

    /// <summary>Classification by testing every pair against a definition: the answer every Classify must give.</summary>
    public static BlockCoverage BruteForce(Func<int, int, bool> allows, ReadOnlySpan<int> queries, ReadOnlySpan<int> keys)
    {
        bool any = false, all = true;
        foreach (var q in queries)
        {
            foreach (var k in keys)
            {
                var allowed = allows(q, k);
                any |= allowed;
                all &= allowed;
            }
        }

        return queries.IsEmpty || keys.IsEmpty || !any ? BlockCoverage.Empty : all ? BlockCoverage.Full : BlockCoverage.Partial;
    }

    /// <summary>Asserts Allows equals the definition for every pair of positions in [0, n).</summary>
    public static void AssertAllowsEverywhere(IAttentionMask mask, Func<int, int, bool> definition, int n)
    {
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                if (mask.Allows(i, j) != definition(i, j))
                {
                    Assert.Fail($"Allows({i}, {j}) is {mask.Allows(i, j)}, the definition says {definition(i, j)}");
                }
            }
        }
    }

    /// <summary>
    /// Position sets of every kind a device may hold: kernel tiles of a contiguous chunk, striped (t mod P), zigzag
    /// (two runs), reversed, random sorted and random shuffled subsets, single positions.
    /// </summary>
    public static IEnumerable<int[]> PositionSets(int n, int seed)
    {
        var random = new Random(seed);
        for (var start = 0; start < n; start += 64)
        {
            yield return Range(start, System.Math.Min(64, n - start));
        }

        for (var start = 0; start < n; start += 128)
        {
            yield return Range(start, System.Math.Min(128, n - start));
        }

        foreach (var devices in new[] { 2, 3, 4, 8 })
        {
            for (var device = 0; device < devices; device += 2)
            {
                var striped = Enumerable.Range(0, n).Where(t => t % devices == device).ToArray();
                yield return striped;
                yield return striped[..System.Math.Min(striped.Length, 5)];
                yield return striped[(striped.Length / 2)..];
            }

            var chunk = n / (2 * devices);
            if (chunk > 0)
            {
                yield return [.. Range(chunk, chunk), .. Range(n - (2 * chunk), chunk)];
            }
        }

        for (var s = 0; s < 24; s++)
        {
            var length = random.Next(1, 40);
            var start = random.Next(0, n);
            yield return Range(start, System.Math.Min(length, n - start));
            var subset = Enumerable.Range(0, n).Where(_ => random.NextDouble() < length / (double)n).ToArray();
            if (subset.Length > 0)
            {
                yield return subset;
                yield return [.. subset.OrderBy(_ => random.Next())];
            }

            yield return [.. Range(start, System.Math.Min(length, n - start)).Reverse()];
            yield return [random.Next(0, n)];
        }
    }

    /// <summary>Asserts Classify equals brute force over many pairs of position sets.</summary>
    public static void AssertClassifyExact(IAttentionMask mask, Func<int, int, bool> definition, int n, int seed)
    {
        var sets = PositionSets(n, seed).ToArray();
        var random = new Random(seed + 1);
        var pairs = sets.SelectMany(q => sets.Where(_ => random.NextDouble() < 0.25).Select(k => (q, k)));
        foreach (var (queries, keys) in pairs)
        {
            var expected = BruteForce(definition, queries, keys);
            var actual = mask.Classify(queries, keys);
            if (actual != expected)
            {
                Assert.Fail($"Classify([{string.Join(',', queries)}], [{string.Join(',', keys)}]) is {actual}, brute force says {expected}");
            }
        }
    }

    private static int[] Range(int start, int count) => Enumerable.Range(start, count).ToArray();
}

public class PatternCoverageSpec
{
    private const int N = 257;

    /// <summary>Every pattern, built by the parser, with its definition.</summary>
    private static readonly string[] SpecList =
    [
        "window:1", "window:16", "window:64", "window:257",
        "causal-window:1", "causal-window:20", "causal-window:130",
        "dilated:2:3", "dilated:16:2", "dilated:20:8",
        "global:0", "global:0-3,100,256",
        "strided:1", "strided:5", "strided:16", "strided:100",
        "fixed:16:1", "fixed:16:4", "fixed:64:8", "fixed:7:0", "fixed:5:5",
        "random:1", "random:7", "random:257",
        "bigbird:8:1:2", "bigbird:16:2:3", "bigbird:64:0:1",
        "block:64:10000/11000/01100/00110/10011",
        "union:causal-window:8+global:3", "union:window:10+strided:9+fixed:32:2",
        "union:block:128:100/010/001+block:128:011/101/110",
    ];

    public static TheoryData<string> Specs => new(SpecList);

    [Theory]
    [MemberData(nameof(Specs))]
    public void Classify_must_equal_brute_force_on_any_positions(string spec)
    {
        var pattern = (StaticPattern)PatternSpec.Parse(spec, new PatternContext(N, Seed: 7));
        var definition = Definition(pattern);
        PatternDefinitions.AssertAllowsEverywhere(pattern, definition, N);
        PatternDefinitions.AssertClassifyExact(pattern, definition, N, seed: spec.Length);
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void Classify_must_stay_exact_when_intersected_with_causal(string spec)
    {
        var pattern = PatternSpec.Parse(spec, new PatternContext(N, Seed: 11, Causal: true));
        var mask = new AttentionOptions(Causal: true, Pattern: pattern).MaskFor(0, 0)!;
        var definition = Definition((StaticPattern)pattern);
        PatternDefinitions.AssertClassifyExact(mask, (i, j) => j <= i && definition(i, j), N, seed: spec.Length + 3);
    }

    [Fact]
    public void Classify_must_say_empty_for_empty_position_sets()
    {
        foreach (var spec in SpecList)
        {
            var pattern = (StaticPattern)PatternSpec.Parse(spec, new PatternContext(N));
            Assert.Equal(BlockCoverage.Empty, pattern.Classify([], [1, 2]));
            Assert.Equal(BlockCoverage.Empty, pattern.Classify([1, 2], []));
        }
    }

    /// <summary>The definition of a parsed pattern, from its parameters (random and BigBird: from their drawn keys and blocks).</summary>
    internal static Func<int, int, bool> Definition(StaticPattern pattern) => pattern switch
    {
        SlidingWindowPattern { Causal: true } w => PatternDefinitions.CausalWindow(w.Window),
        SlidingWindowPattern w => PatternDefinitions.Window(w.Window),
        DilatedWindowPattern d => PatternDefinitions.Dilated(d.Window, d.Dilation),
        GlobalTokensPattern g => PatternDefinitions.Global([.. g.Positions]),
        StridedPattern s => PatternDefinitions.Strided(s.Stride),
        FixedPattern f => PatternDefinitions.Fixed(f.BlockLength, f.SummaryKeys),
        RandomPattern r => (i, j) => r.KeysOf(i).ToArray().Contains(j),
        BlockSparsePattern b => (i, j) => b.BlockAllowed(i / b.BlockSize, j / b.BlockSize),
        UnionPattern u => PatternDefinitions.Any([.. u.Members.Select<StaticPattern, Func<int, int, bool>>(member => Definition(member))]),
        _ => throw new ArgumentException($"no definition for {pattern.Name}"),
    };
}
