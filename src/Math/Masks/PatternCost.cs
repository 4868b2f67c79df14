using System.Globalization;

namespace RingActors.Math.Masks;

/// <summary>
/// What <see cref="PatternSpec.Parse"/> would allocate for a spec, estimated from the spec's text and the sequence length alone —
/// nothing is built — so that a spec from another process can be refused before it costs memory and time: <c>bigbird:1</c>
/// over 2³¹ tokens asks for 2⁶² flags, <c>random:R</c> for N·R keys. For a spec Parse accepts it is an upper bound on its
/// tables (the work is proportional to them); a spec Parse refuses costs at most the same. Saturates at <see cref="long.MaxValue"/>.
/// </summary>
public static class PatternCost
{
    /// <summary>Every pattern object, the strings the parser splits off, a union's members: small and independent of N.</summary>
    private const long PerMember = 1024;

    /// <summary>A global position costs its List entry, the HashSet of Distinct, the sorted copy and growth slack.</summary>
    private const long PerGlobalPosition = 40;

    /// <summary>An upper bound on the bytes <see cref="PatternSpec.Parse"/> allocates for <paramref name="spec"/> over <paramref name="seqLen"/> tokens.</summary>
    public static long TableBytes(string spec, int seqLen)
    {
        ArgumentNullException.ThrowIfNull(spec);
        long n = System.Math.Max(seqLen, 1);
        var total = PerMember + (8L * spec.Length);
        foreach (var member in Members(spec))
        {
            total = Add(total, PerMember + MemberBytes(member, n));
        }

        return total;
    }

    /// <summary>Whether parsing <paramref name="spec"/> reads a file: a block layout given as a path (which names a file on the parsing machine).</summary>
    public static bool ReadsFile(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return Members(spec).Any(member => Split(member) is ("block", { } rest)
            && rest.IndexOf(':', StringComparison.Ordinal) is var separator and >= 0
            && rest[(separator + 1)..] is { Length: > 0 } layout
            && !IsInlineLayout(layout));
    }

    private static long MemberBytes(string member, long n)
    {
        var (name, rest) = Split(member);
        var args = rest?.Split(':') ?? [];
        switch (name)
        {
            case "random" when Int(args, 0) is { } r:
                {
                    // KeyListMask: N rows of min(R, N) keys (twice when trimmed), row starts, the sampler's set.
                    var perRow = System.Math.Clamp(r, 0, n);
                    return Add(Mul(Mul(8, n), perRow), Add(4 * (n + 1), 32 * perRow));
                }

            case "bigbird" when Int(args, 0) is > 0 and var b:
                {
                    // ⌈N/B⌉² layout flags, plus per-block lists of eligible and chosen blocks.
                    var blocks = (n + b - 1) / b;
                    return Add(Mul(blocks, blocks), 48 * blocks);
                }

            case "block" when rest is not null:
                {
                    // An inline layout of R rows: the split rows, the R×R cells and the flattened R² flags.
                    var separator = rest.IndexOf(':', StringComparison.Ordinal);
                    var layout = separator < 0 ? string.Empty : rest[(separator + 1)..];
                    long rows = layout.Count(c => c == '/') + 1;
                    return Add(Mul(2 * rows, rows), (4L * layout.Length) + (32 * rows));
                }

            case "global" when rest is not null:
                {
                    long positions = 0;
                    foreach (var item in rest.Split(','))
                    {
                        var text = item.Trim();
                        var dash = text.Length > 1 ? text.IndexOf('-', 1) : -1;
                        positions = Add(positions, dash > 0 && Int([text[..dash]], 0) is { } from && Int([text[(dash + 1)..]], 0) is { } to
                            ? System.Math.Max(to - from + 1, 0)
                            : 1);
                    }

                    // The flags of positions 0..max (max < N) besides the positions themselves.
                    return Add(Mul(positions, PerGlobalPosition), n + 1);
                }

            default:
                // Windows, dilated, strided and fixed patterns hold a few numbers; top-k needs the input, which no spec carries.
                return 0;
        }
    }

    private static IEnumerable<string> Members(string spec)
    {
        var text = spec.Trim();
        return Split(text) is ("union", { } rest) ? rest.Split('+').Select(member => member.Trim()) : [text];
    }

    /// <summary>NAME and the text after its colon, as <see cref="PatternSpec"/> splits them.</summary>
    private static (string Name, string? Tail) Split(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? (text.Trim().ToLowerInvariant(), null) : (text[..colon].Trim().ToLowerInvariant(), text[(colon + 1)..]);
    }

    private static bool IsInlineLayout(string layout) => layout.All(c => c is '0' or '1' or '/');

    private static long? Int(string[] args, int index) =>
        index < args.Length && int.TryParse(args[index].Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static long Add(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

    private static long Mul(long a, long b) => a != 0 && b > long.MaxValue / a ? long.MaxValue : a * b;
}
