using System.Globalization;
using System.Text;

namespace RingActors.Math.Masks;

/// <summary>What a pattern spec needs besides its text: the sequence length, the seed of random patterns, whether the run is
/// causal (random keys and blocks are then drawn from the past, top-k keeps keys j ≤ i) and, for top-k, the input and scale.</summary>
public sealed record PatternContext(int SeqLen, int Seed = 0, bool Causal = false, AttentionInput? Input = null, float? Scale = null);

/// <summary>
/// Parses the command-line syntax <c>NAME[:ARGS]</c> into an <see cref="AttentionPattern"/> (ANCHORS.md §4). Grammar:
/// <code>
/// spec    := single | "union:" single ("+" single)*
/// single  := "window:" W                 bidirectional sliding window, |i−j| ≤ ⌊W/2⌋          1 ≤ W ≤ N
///          | "causal-window:" W          causal sliding window, 0 ≤ i−j &lt; W                  1 ≤ W ≤ N
///          | "dilated:" W ":" D          dilated window, |i−j| ≤ ⌊W/2⌋·D, D divides i−j       W, D ≥ 1, W·D ≤ N
///          | "global:" ITEM ("," ITEM)*  global tokens (ITEM := P | P "-" P, a range)         0 ≤ P &lt; N
///          | "strided" [":" L]           Sparse Transformer strided, causal                  1 ≤ L ≤ N, default round(√N)
///          | "fixed" [":" L [":" C]]     Sparse Transformer fixed                            1 ≤ L ≤ N (default round(√N)), 0 ≤ C ≤ L (default 1)
///          | "random:" R                 R random keys per query (seeded)                    1 ≤ R ≤ N
///          | "bigbird:" B [":" G [":" R]] BigBird blocks: 3 window, G global, R random         1 ≤ B ≤ N, 0 ≤ G, R ≤ ⌈N/B⌉ (default G = 2, R = 3)
///          | "block:" B ":" LAYOUT       explicit ⌈N/B⌉×⌈N/B⌉ block layout                   1 ≤ B ≤ N
///          | "topk:" K                   top-K keys per query from the input's scores        1 ≤ K ≤ N
/// LAYOUT  := rows of 0/1 separated by "/" (e.g. 110/111/011), or the path of a text file with one row of 0/1 per line
///            (spaces and commas between cells are ignored, as are blank lines and lines starting with #).
/// </code>
/// Numbers are decimal integers; names are case-insensitive. A malformed spec throws an <see cref="ArgumentException"/>
/// whose one-line message says what was wrong and what is allowed.
/// </summary>
public static class PatternSpec
{
    /// <summary>The pattern names the parser knows, in the order <see cref="Help"/> lists them.</summary>
    public static readonly IReadOnlyList<string> Names =
        ["window", "causal-window", "dilated", "global", "strided", "fixed", "random", "bigbird", "block", "topk", "union"];

    /// <summary>One line per pattern: its syntax, what it allows and the legal arguments.</summary>
    public const string Help =
        """
        Patterns (--pattern NAME[:ARGS]; N = sequence length, i = query position, j = key position):
          window:W            |i-j| <= floor(W/2)                                  1 <= W <= N
          causal-window:W     0 <= i-j < W                                         1 <= W <= N
          dilated:W:D         |i-j| <= floor(W/2)*D and D divides i-j              W, D >= 1, W*D <= N
          global:P,Q,A-B      j in G or i in G (positions and ranges A-B)          0 <= P < N
          strided[:L]         causal: i-L < j <= i, or L divides i-j with j <= i   1 <= L <= N (default round(sqrt N))
          fixed[:L[:C]]       floor(j/L) = floor(i/L), or j mod L >= L-C           1 <= L <= N (default round(sqrt N)), 0 <= C <= L (default 1)
          random:R            R random keys per query, seeded by --seed and i      1 <= R <= N
          bigbird:B[:G[:R]]   blocks of B: 3 window, first G global, R random      1 <= B <= N, 0 <= G, R <= ceil(N/B) (default G=2, R=3)
          block:B:LAYOUT      ceil(N/B) x ceil(N/B) block layout: rows of 0/1      1 <= B <= N
                              joined by '/' (110/111/011), or a file, one row per line
          topk:K              each query keeps its K highest-scoring keys, per head 1 <= K <= N
          union:A+B[+C...]    allowed when any member allows, e.g. union:window:64+global:0
        When causal, random and bigbird draw only from the past and topk keeps only keys j <= i.
        """;

    /// <summary>Parses <paramref name="spec"/> for a problem described by <paramref name="context"/>; see the class summary for the grammar.</summary>
    public static AttentionPattern Parse(string spec, PatternContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.SeqLen <= 0)
        {
            throw new ArgumentException($"the sequence length must be ≥ 1 to build a pattern, got {context.SeqLen}", nameof(context));
        }

        var text = (spec ?? string.Empty).Trim();
        if (text.Length == 0)
        {
            throw Error(text, $"empty pattern; expected NAME[:ARGS] with NAME one of {string.Join(", ", Names)}");
        }

        var (name, rest) = SplitName(text);
        if (name == "union")
        {
            if (rest is null || rest.Length == 0)
            {
                throw Error(text, "union needs its members, e.g. union:window:64+global:0");
            }

            var members = rest.Split('+').Select(member => member.Trim()).ToArray();
            if (members.Any(member => member.Length == 0))
            {
                throw Error(text, "a union member is empty; write union:A+B with patterns A and B");
            }

            return UnionPattern.Of([.. members.Select(member => ParseSingle(member, context, text))]);
        }

        return ParseSingle(text, context, text);
    }

    /// <summary>Positions written compactly: runs of three or more as <c>a-b</c>, e.g. <c>0-3,7,9</c>.</summary>
    public static string FormatPositions(IReadOnlyList<int> sorted)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        var text = new StringBuilder();
        for (var i = 0; i < sorted.Count;)
        {
            var end = i;
            while (end + 1 < sorted.Count && sorted[end + 1] == sorted[end] + 1)
            {
                end++;
            }

            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(sorted[i].ToString(CultureInfo.InvariantCulture));
            if (end - i >= 2)
            {
                text.Append('-').Append(sorted[end].ToString(CultureInfo.InvariantCulture));
                i = end + 1;
            }
            else
            {
                i++;
            }
        }

        return text.ToString();
    }

    /// <summary>Reads a block layout: inline rows of 0/1 joined by '/', or a file with one row per line.</summary>
    public static bool[,] ParseLayout(string layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        string[] rows;
        if (layout.Length > 0 && layout.All(c => c is '0' or '1' or '/'))
        {
            rows = layout.Split('/');
        }
        else if (File.Exists(layout))
        {
            rows = [.. File.ReadAllLines(layout)
                .Select(line => line.Trim())
                .Where(line => line.Length > 0 && !line.StartsWith('#'))
                .Select(line => new string([.. line.Where(c => c is not (' ' or '\t' or ','))]))];
        }
        else
        {
            throw new ArgumentException(
                $"layout '{layout}' is neither inline rows of 0/1 joined by '/' (e.g. 110/111/011) nor an existing file", nameof(layout));
        }

        var size = rows.Length;

        // Every row is checked before the cells are allocated: "////…" of L characters is not worth L² flags.
        for (var r = 0; r < size; r++)
        {
            if (rows[r].Length != size)
            {
                throw new ArgumentException($"layout row {r + 1} has {rows[r].Length} cells, expected {size} (the layout must be square)", nameof(layout));
            }
        }

        var cells = new bool[size, size];
        for (var r = 0; r < size; r++)
        {
            for (var c = 0; c < size; c++)
            {
                cells[r, c] = rows[r][c] switch
                {
                    '1' => true,
                    '0' => false,
                    var other => throw new ArgumentException($"layout row {r + 1} holds '{other}', only 0 and 1 are allowed", nameof(layout)),
                };
            }
        }

        return cells;
    }

    private static AttentionPattern ParseSingle(string single, PatternContext context, string whole)
    {
        var n = context.SeqLen;
        var (name, rest) = SplitName(single);
        switch (name)
        {
            case "window":
            case "causal-window":
                {
                    var args = Arguments(whole, name, rest, 1, 1, "W (window width)");
                    var w = Number(whole, args[0], "window width W", 1, n, $"the sequence has {n} tokens");
                    return new SlidingWindowPattern(w, causal: name == "causal-window");
                }

            case "dilated":
                {
                    var args = Arguments(whole, name, rest, 2, 2, "W:D (window width, dilation)");
                    var w = Number(whole, args[0], "window width W", 1, n, $"the sequence has {n} tokens");
                    var dilation = Number(whole, args[1], "dilation D", 1, n, $"the sequence has {n} tokens");
                    if ((long)w * dilation > n)
                    {
                        throw Error(whole, $"the dilated window spans W·D = {(long)w * dilation} positions, more than the {n} tokens; use W·D ≤ {n}");
                    }

                    return new DilatedWindowPattern(w, dilation);
                }

            case "global":
                {
                    var args = Arguments(whole, name, rest, 1, 1, "P,Q,A-B (global positions)");
                    return new GlobalTokensPattern(GlobalPositions(whole, args[0], n));
                }

            case "strided":
                {
                    var args = Arguments(whole, name, rest, 0, 1, "[L] (stride)");
                    var stride = args.Length > 0 ? Number(whole, args[0], "stride L", 1, n, $"the sequence has {n} tokens") : StridedPattern.DefaultStride(n);
                    return new StridedPattern(stride);
                }

            case "fixed":
                {
                    var args = Arguments(whole, name, rest, 0, 2, "[L[:C]] (block length, summary keys)");
                    var length = args.Length > 0 ? Number(whole, args[0], "block length L", 1, n, $"the sequence has {n} tokens") : StridedPattern.DefaultStride(n);
                    var summary = args.Length > 1 ? Number(whole, args[1], "summary keys C", 0, length, $"C counts keys within a block of {length}") : 1;
                    return new FixedPattern(length, summary);
                }

            case "random":
                {
                    var args = Arguments(whole, name, rest, 1, 1, "R (keys per query)");
                    var keys = Number(whole, args[0], "random keys R", 1, n, $"the sequence has {n} tokens");
                    return new RandomPattern(keys, n, context.Seed, context.Causal);
                }

            case "bigbird":
                {
                    var args = Arguments(whole, name, rest, 1, 3, "B[:G[:R]] (block size, global blocks, random blocks)");
                    var block = Number(whole, args[0], "block size B", 1, n, $"the sequence has {n} tokens");
                    var blocks = BlockSparsePattern.BlockCount(n, block);
                    var global = args.Length > 1 ? Number(whole, args[1], "global blocks G", 0, blocks, $"{n} tokens make {blocks} blocks of {block}") : System.Math.Min(2, blocks);
                    var random = args.Length > 2 ? Number(whole, args[2], "random blocks R", 0, blocks, $"{n} tokens make {blocks} blocks of {block}") : 3;
                    return new BigBirdPattern(block, global, random, n, context.Seed, context.Causal);
                }

            case "block":
                {
                    // The layout may be a path holding ':' itself, so only the first separator after the size counts.
                    var separator = rest?.IndexOf(':', StringComparison.Ordinal) ?? -1;
                    if (rest is null || separator < 0 || separator == rest.Length - 1)
                    {
                        throw Error(whole, "block takes B:LAYOUT (block size, then inline rows of 0/1 joined by '/' or a layout file)");
                    }

                    var block = Number(whole, rest[..separator], "block size B", 1, n, $"the sequence has {n} tokens");
                    var layoutText = rest[(separator + 1)..];
                    try
                    {
                        var layout = ParseLayout(layoutText);
                        var inline = layoutText.All(c => c is '0' or '1' or '/');
                        return new BlockSparsePattern(block, layout, n, inline ? null : $"block:{block}:{layoutText}");
                    }
                    catch (ArgumentException e) when (e.ParamName is "layout")
                    {
                        throw Error(whole, FirstLine(e));
                    }
                    catch (IOException e)
                    {
                        throw Error(whole, $"cannot read layout file '{layoutText}': {e.Message}");
                    }
                }

            case "topk":
                {
                    var args = Arguments(whole, name, rest, 1, 1, "K (keys per query)");
                    var k = Number(whole, args[0], "top-k K", 1, n, $"the sequence has {n} tokens");
                    if (context.Input is null)
                    {
                        throw Error(whole, "top-k is data-dependent and needs the attention input in the pattern context");
                    }

                    if (context.Input.Shape.SeqLen != n)
                    {
                        throw Error(whole, $"the input has {context.Input.Shape.SeqLen} tokens but the context says {n}");
                    }

                    return new TopKPattern(context.Input, k, context.Causal, context.Scale);
                }

            case "union":
                throw Error(whole, "a union cannot be nested; write one union:A+B+C");

            default:
                throw Error(whole, $"unknown pattern '{name}'; known: {string.Join(", ", Names)}");
        }
    }

    private static (string Name, string? Tail) SplitName(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon < 0
            ? (text.Trim().ToLowerInvariant(), null)
            : (text[..colon].Trim().ToLowerInvariant(), text[(colon + 1)..]);
    }

    private static string[] Arguments(string whole, string name, string? rest, int min, int max, string usage)
    {
        var args = rest is null ? [] : rest.Split(':');
        if (args.Length < min || args.Length > max)
        {
            var expected = min == max ? $"{min}" : $"{min} to {max}";
            throw Error(whole, $"{name} takes {expected} argument{(max == 1 ? string.Empty : "s")} {usage}, got {args.Length}");
        }

        return args;
    }

    private static int Number(string whole, string text, string what, int min, int max, string why)
    {
        var trimmed = text.Trim();
        if (!int.TryParse(trimmed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            throw Error(whole, $"{what} '{trimmed}' is not a whole number; use {min}..{max}");
        }

        if (value < min)
        {
            throw Error(whole, $"{what} must be ≥ {min}, got {value}");
        }

        if (value > max)
        {
            throw Error(whole, $"{what} {value} is larger than allowed ({why}); use {min}..{max}");
        }

        return value;
    }

    private static List<int> GlobalPositions(string whole, string list, int n)
    {
        var positions = new List<int>();
        foreach (var item in list.Split(',').Select(item => item.Trim()))
        {
            // Searching from the second character lets a leading '-' read as a (refused) negative number, not a range.
            var dash = item.Length > 1 ? item.IndexOf('-', 1) : -1;
            if (dash > 0)
            {
                var from = Number(whole, item[..dash], "global position", 0, n - 1, $"positions run 0..{n - 1}");
                var to = Number(whole, item[(dash + 1)..], "global position", 0, n - 1, $"positions run 0..{n - 1}");
                if (to < from)
                {
                    throw Error(whole, $"global range {from}-{to} runs backwards; write the smaller position first");
                }

                positions.AddRange(Enumerable.Range(from, to - from + 1));
            }
            else
            {
                positions.Add(Number(whole, item, "global position", 0, n - 1, $"positions run 0..{n - 1}"));
            }
        }

        return positions;
    }

    private static string FirstLine(ArgumentException e)
    {
        // ArgumentException appends " (Parameter '…')": keep the sentence only.
        var message = e.Message;
        var suffix = message.LastIndexOf(" (Parameter", StringComparison.Ordinal);
        return suffix >= 0 ? message[..suffix] : message;
    }

    private static ArgumentException Error(string spec, string problem) => new($"pattern '{spec}': {problem}", "spec");
}
