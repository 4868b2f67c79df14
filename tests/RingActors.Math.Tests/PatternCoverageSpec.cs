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
        var definition = Definition(spec, seed: 7, causal: false);
        PatternDefinitions.AssertAllowsEverywhere(pattern, definition, N);
        PatternDefinitions.AssertClassifyExact(pattern, definition, N, seed: spec.Length);
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void Classify_must_stay_exact_when_intersected_with_causal(string spec)
    {
        var pattern = PatternSpec.Parse(spec, new PatternContext(N, Seed: 11, Causal: true));
        var mask = new AttentionOptions(Causal: true, Pattern: pattern).MaskFor(0, 0)!;
        var definition = Definition(spec, seed: 11, causal: true);
        PatternDefinitions.AssertAllowsEverywhere((StaticPattern)pattern, definition, N);
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

    [Fact]
    public void The_reference_generator_must_be_the_published_SplitMix64()
    {
        // Steele, Lea & Flood's generator from state 0 (Vigna's splitmix64.c): the first two outputs.
        var generator = new ReferenceDraws.SplitMix64(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, generator.Next());
        Assert.Equal(0x6E789E6AA1B965F4UL, generator.Next());
    }

    /// <summary>
    /// The definition of a pattern read from its spec text alone (README's table, ANCHORS.md §4), never from the parsed object:
    /// block layouts from their rows of 0/1, random keys and BigBird's random blocks re-drawn by <see cref="ReferenceDraws"/>.
    /// </summary>
    internal static Func<int, int, bool> Definition(string spec, int seed, bool causal)
    {
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        var (name, rest) = (spec[..colon], spec[(colon + 1)..]);
        var args = rest.Split(':');
        int Arg(int index) => int.Parse(args[index], System.Globalization.CultureInfo.InvariantCulture);
        return name switch
        {
            "window" => PatternDefinitions.Window(Arg(0)),
            "causal-window" => PatternDefinitions.CausalWindow(Arg(0)),
            "dilated" => PatternDefinitions.Dilated(Arg(0), Arg(1)),
            "global" => PatternDefinitions.Global([.. GlobalPositions(rest)]),
            "strided" => PatternDefinitions.Strided(Arg(0)),
            "fixed" => PatternDefinitions.Fixed(Arg(0), Arg(1)),
            "random" => ReferenceDraws.Random(Arg(0), N, seed, causal),
            "bigbird" => ReferenceDraws.BigBird(Arg(0), Arg(1), Arg(2), N, seed, causal),
            "block" => PatternDefinitions.Layout(Arg(0), Layout(args[1])),
            "union" => PatternDefinitions.Any([.. rest.Split('+').Select(member => Definition(member, seed, causal))]),
            _ => throw new ArgumentException($"no definition for {spec}"),
        };
    }

    /// <summary>"0-3,100,256" as positions.</summary>
    private static IEnumerable<int> GlobalPositions(string items) =>
        items.Split(',').SelectMany(item => item.Split('-') is [var from, var to]
            ? Enumerable.Range(int.Parse(from, System.Globalization.CultureInfo.InvariantCulture), int.Parse(to, System.Globalization.CultureInfo.InvariantCulture) - int.Parse(from, System.Globalization.CultureInfo.InvariantCulture) + 1)
            : new[] { int.Parse(item, System.Globalization.CultureInfo.InvariantCulture) });

    /// <summary>"110/011" as [query block, key block] flags.</summary>
    private static bool[,] Layout(string rows)
    {
        var lines = rows.Split('/');
        var layout = new bool[lines.Length, lines[0].Length];
        for (var r = 0; r < lines.Length; r++)
        {
            for (var c = 0; c < lines[r].Length; c++)
            {
                layout[r, c] = lines[r][c] == '1';
            }
        }

        return layout;
    }
}

/// <summary>
/// The seeded choices of the random patterns, re-derived from what their documentation states (RandomPattern, BigBirdPattern):
/// each row (query, or query block) draws its keys with SplitMix64 seeded by (seed, row, the pattern's salt) alone, r distinct
/// values by Floyd's algorithm; written here from the published algorithms, not by calling the patterns' code.
/// </summary>
internal static class ReferenceDraws
{
    /// <summary>"RAND" and "BIGB": the salts that keep the two patterns' draws apart for one seed.</summary>
    private const int RandomSalt = 0x52414e44;
    private const int BigBirdSalt = 0x42494742;

    /// <summary>Query i attends r distinct keys of [0, N) (of [0, i] when causal).</summary>
    public static Func<int, int, bool> Random(int r, int n, int seed, bool causal)
    {
        var keys = new HashSet<int>[n];
        for (var i = 0; i < n; i++)
        {
            var range = causal ? i + 1 : n;
            keys[i] = [.. Floyd(new SplitMix64(seed, i, RandomSalt), range, System.Math.Min(r, range))];

            // What the definition promises whatever the generator: exactly min(r, range) keys, all in range.
            Assert.Equal(System.Math.Min(r, range), keys[i].Count);
            Assert.All(keys[i], key => Assert.InRange(key, 0, range - 1));
        }

        return (i, j) => keys[i].Contains(j);
    }

    /// <summary>
    /// Blocks of b: query block B attends C when |B − C| ≤ 1, B &lt; g or C &lt; g, or C is one of r distinct blocks drawn among
    /// those not already attended (and C ≤ B when causal).
    /// </summary>
    public static Func<int, int, bool> BigBird(int b, int g, int r, int n, int seed, bool causal)
    {
        var blocks = (n + b - 1) / b;
        var layout = new bool[blocks, blocks];
        for (var q = 0; q < blocks; q++)
        {
            var eligible = new List<int>();
            for (var k = 0; k < blocks; k++)
            {
                layout[q, k] = System.Math.Abs(q - k) <= 1 || q < g || k < g;
                if (!layout[q, k] && (!causal || k <= q))
                {
                    eligible.Add(k);
                }
            }

            foreach (var index in Floyd(new SplitMix64(seed, q, BigBirdSalt), eligible.Count, System.Math.Min(System.Math.Min(r, blocks), eligible.Count)))
            {
                layout[q, eligible[index]] = true;
            }
        }

        return PatternDefinitions.Layout(b, layout);
    }

    /// <summary>Floyd's sampling of <paramref name="count"/> distinct values of [0, range): one draw per value.</summary>
    private static IEnumerable<int> Floyd(SplitMix64 generator, int range, int count)
    {
        var chosen = new HashSet<int>();
        for (var j = range - count; j < range; j++)
        {
            var t = generator.NextInt(j + 1);
            chosen.Add(chosen.Contains(t) ? j : t);
        }

        return chosen;
    }

    /// <summary>SplitMix64 (Steele, Lea &amp; Flood 2014), seeded from (seed, stream, salt) as the patterns document.</summary>
    internal sealed class SplitMix64(ulong state)
    {
        private ulong _state = state;

        public SplitMix64(int seed, int stream, int salt)
            : this(((ulong)(uint)seed << 32) ^ (uint)stream ^ ((ulong)(uint)salt * 0x9E3779B97F4A7C15UL))
        {
            Next(); // the patterns discard the first output of a fresh stream
        }

        public ulong Next()
        {
            var z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>[0, bound) by Lemire's multiply-shift on the high 32 bits.</summary>
        public int NextInt(int bound) => (int)(((Next() >> 32) * (ulong)bound) >> 32);
    }
}
