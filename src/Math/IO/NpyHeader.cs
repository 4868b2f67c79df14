using System.Globalization;
using System.Text;

namespace RingActors.Math.IO;

/// <summary>
/// The dictionary of a .npy header, parsed from the subset of Python literal syntax numpy writes
/// (<c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 5), }</c>): strings in either quote, True/False,
/// integers (with Python 2's trailing L, as numpy's own reader tolerates) and tuples. Anything else is refused,
/// since numpy itself would refuse it or it would need a pickle.
/// </summary>
internal sealed record NpyHeader(string Descr, bool FortranOrder, long[] Shape)
{
    /// <summary>
    /// Deepest nesting of tuples and lists accepted. The parser recurses once per level, so without a bound a 64 KiB header of
    /// '(' would overflow the stack (which no catch survives); numpy's deepest header (a structured dtype's shape inside a
    /// field tuple inside the descr list) nests 3 levels.
    /// </summary>
    public const int MaxDepth = 32;

    /// <summary>Items of a tuple shown in an error message before the rest is counted, so the message stays one readable line.</summary>
    private const int ShownItems = 8;

    public static NpyHeader Parse(string text, string source)
    {
        var parser = new Parser(text, source);
        var dict = parser.ParseDict();
        parser.ExpectEnd();

        var missing = new[] { "descr", "fortran_order", "shape" }.Where(k => !dict.ContainsKey(k)).ToArray();
        if (missing.Length > 0)
        {
            throw NpyError.In(source, $"header lacks the key(s) {string.Join(", ", missing.Select(k => $"'{k}'"))}");
        }

        var extra = dict.Keys.Where(k => k is not ("descr" or "fortran_order" or "shape")).ToArray();
        if (extra.Length > 0)
        {
            throw NpyError.In(source, $"header has unexpected key(s) {string.Join(", ", extra.Select(k => $"'{k}'"))}");
        }

        if (dict["descr"] is not string descr)
        {
            throw NpyError.In(source, $"dtype {Show(dict["descr"])} is not supported (structured dtypes are not): expected '<f4' or '<f8'");
        }

        if (dict["fortran_order"] is not bool fortran)
        {
            throw NpyError.In(source, $"'fortran_order' is {Show(dict["fortran_order"])}, expected True or False");
        }

        if (dict["shape"] is not object[] dims || dims.Any(d => d is not long))
        {
            throw NpyError.In(source, $"'shape' is {Show(dict["shape"])}, expected a tuple of integers");
        }

        return new NpyHeader(descr, fortran, dims.Cast<long>().ToArray());
    }

    /// <summary>A value shown the way Python would print it, for error messages.</summary>
    internal static string Show(object? value) => value switch
    {
        string s => $"'{s}'",
        bool b => b ? "True" : "False",
        long n => n.ToString(CultureInfo.InvariantCulture),
        object[] { Length: 1 } t => $"({Show(t[0])},)",
        object[] { Length: > ShownItems } t => $"({string.Join(", ", t.Take(ShownItems).Select(Show))}, … {t.Length} items)",
        object[] t => $"({string.Join(", ", t.Select(Show))})",
        null => "None",
        _ => value.ToString() ?? "?",
    };

    private sealed class Parser(string text, string source)
    {
        private int _at;
        private int _depth;

        public Dictionary<string, object?> ParseDict()
        {
            SkipSpace();
            if (Peek() != '{')
            {
                throw Fail("header is not a dict literal");
            }

            _at++;
            var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
            while (true)
            {
                SkipSpace();
                if (Peek() == '}')
                {
                    _at++;
                    return dict;
                }

                if (ParseValue() is not string key)
                {
                    throw Fail("header is not a dict with string keys");
                }

                SkipSpace();
                Expect(':');
                var value = ParseValue();
                if (!dict.TryAdd(key, value))
                {
                    throw Fail($"header repeats the key '{key}'");
                }

                SkipSpace();
                if (Peek() == ',')
                {
                    _at++;
                }
                else if (Peek() != '}')
                {
                    throw Fail(Peek() == '\0' ? "header ends inside its dict" : "header is not a dict literal: expected ',' or '}'");
                }
            }
        }

        public void ExpectEnd()
        {
            SkipSpace();
            if (_at != text.Length)
            {
                throw Fail("header has text after its dict");
            }
        }

        private object? ParseValue()
        {
            SkipSpace();
            var c = Peek();
            if (c is '\'' or '"')
            {
                return ParseString(c);
            }

            if (c is '(' or '[')
            {
                return ParseSequence(c == '(' ? ')' : ']');
            }

            if (c == '-' || char.IsAsciiDigit(c))
            {
                return ParseInteger();
            }

            if (char.IsAsciiLetter(c))
            {
                var start = _at;
                while (_at < text.Length && (char.IsAsciiLetterOrDigit(text[_at]) || text[_at] == '_'))
                {
                    _at++;
                }

                return text[start.._at] switch
                {
                    "True" => true,
                    "False" => false,
                    "None" => null,
                    var word => throw Fail($"header holds '{word}', which is not a literal numpy writes"),
                };
            }

            throw Fail(c == '\0' ? "header ends inside its dict" : $"header holds an unexpected '{c}'");
        }

        private string ParseString(char quote)
        {
            var start = ++_at;
            while (_at < text.Length && text[_at] != quote)
            {
                if (text[_at] == '\\')
                {
                    throw Fail("header strings with escapes are not supported");
                }

                _at++;
            }

            if (_at >= text.Length)
            {
                throw Fail("header has an unterminated string");
            }

            return text[start.._at++];
        }

        private object?[] ParseSequence(char close)
        {
            if (++_depth > MaxDepth)
            {
                throw Fail($"header nests tuples or lists deeper than {MaxDepth} levels");
            }

            _at++;
            var items = new List<object?>();
            while (true)
            {
                SkipSpace();
                if (Peek() == close)
                {
                    _at++;
                    _depth--;
                    return [.. items];
                }

                items.Add(ParseValue());
                SkipSpace();
                if (Peek() == ',')
                {
                    _at++;
                }
                else if (Peek() != close)
                {
                    throw Fail($"header has a tuple without its closing '{close}'");
                }
            }
        }

        private long ParseInteger()
        {
            var start = _at;
            if (Peek() == '-')
            {
                _at++;
            }

            while (_at < text.Length && char.IsAsciiDigit(text[_at]))
            {
                _at++;
            }

            var digits = text[start.._at];
            if (digits == "-")
            {
                throw Fail("header holds a '-' without digits");
            }

            if (_at < text.Length && text[_at] is 'L' or 'l')
            {
                _at++;
            }

            if (!long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                throw Fail($"header holds the integer {digits}, which does not fit 64 bits");
            }

            return value;
        }

        private void Expect(char c)
        {
            if (Peek() != c)
            {
                throw Fail($"header is not a dict literal: expected '{c}'");
            }

            _at++;
        }

        private char Peek() => _at < text.Length ? text[_at] : '\0';

        private void SkipSpace()
        {
            while (_at < text.Length && text[_at] is ' ' or '\t' or '\n' or '\r')
            {
                _at++;
            }
        }

        private InvalidDataException Fail(string problem) =>
            NpyError.In(source, $"{problem} (at offset {_at} of {Excerpt(text)})");

        private static string Excerpt(string header)
        {
            var trimmed = header.TrimEnd();
            if (trimmed.Length > 120)
            {
                trimmed = string.Concat(trimmed.AsSpan(0, 117), "...");
            }

            var builder = new StringBuilder(trimmed.Length + 2).Append('"');
            foreach (var c in trimmed)
            {
                // Keep the message on one line whatever bytes the header holds.
                builder.Append(char.IsControl(c) ? '?' : c);
            }

            return builder.Append('"').ToString();
        }
    }
}
