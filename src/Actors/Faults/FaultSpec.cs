using System.Globalization;

namespace RingActors.Actors.Faults;

/// <summary>
/// One fault to inject into a ring job, parsed from its command-line spelling (<c>KIND:ARGS</c>). <see cref="ToString"/>
/// gives the canonical spelling back, which names the fault in reports and failure reasons.
/// </summary>
public abstract record FaultSpec
{
    /// <summary>What <see cref="Parse"/> accepts, for error messages and help.</summary>
    public const string Allowed =
        "kill-device:R@S (R or S may be ? for a seeded random draw per trial), crash-node:NAME@S, drop:P, drop:P@R, delay:MS, delay:MS~JITTER, duplicate:P, partition:NAME@S+SECONDS, slow-device:R*K";

    /// <summary>Whether the fault acts on nodes (processes, transports) and so only means something on a cluster run.</summary>
    public virtual bool NeedsCluster => false;

    /// <summary>Parses one spec; a malformed one throws an <see cref="ArgumentException"/> naming it and what is allowed.</summary>
    public static FaultSpec Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var text = spec.Trim();
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw Bad(spec, "expected KIND:ARGS");
        }

        var kind = text[..colon].ToLowerInvariant();
        var args = text[(colon + 1)..];
        return kind switch
        {
            "kill-device" => ParseAt(spec, args, "R@S", (r, s) => new KillDevice(
                r == "?" ? 0 : Index(spec, r, "device R"), s == "?" ? 0 : Index(spec, s, "step S"), RandomDevice: r == "?", RandomStep: s == "?")),
            "crash-node" => ParseAt(spec, args, "NAME@S", (name, s) => new CrashNode(Name(spec, name), Index(spec, s, "step S"))),
            "drop" => args.Contains('@', StringComparison.Ordinal)
                ? ParseAt(spec, args, "P@R", (p, r) => new Drop(ParseProbability(spec, p), Index(spec, r, "device R")))
                : new Drop(ParseProbability(spec, args), null),
            "delay" => ParseDelay(spec, args),
            "duplicate" => new Duplicate(ParseProbability(spec, args)),
            "partition" => ParsePartition(spec, args),
            "slow-device" => ParseSlow(spec, args),
            _ => throw Bad(spec, $"unknown kind '{kind}'"),
        };
    }

    private static FaultSpec ParseAt(string spec, string args, string form, Func<string, string, FaultSpec> make)
    {
        var parts = args.Split('@');
        return parts.Length == 2 ? make(parts[0], parts[1]) : throw Bad(spec, $"expected {form}");
    }

    private static Delay ParseDelay(string spec, string args)
    {
        var parts = args.Split('~');
        if (parts.Length > 2)
        {
            throw Bad(spec, "expected MS or MS~JITTER");
        }

        var delay = Milliseconds(spec, parts[0], "delay MS");
        var jitter = parts.Length == 2 ? Milliseconds(spec, parts[1], "jitter") : TimeSpan.Zero;
        return jitter > delay ? throw Bad(spec, $"jitter {jitter.TotalMilliseconds} ms exceeds the delay {delay.TotalMilliseconds} ms (a hand-off cannot arrive before it is sent)") : new Delay(delay, jitter);
    }

    private static Partition ParsePartition(string spec, string args)
    {
        var at = args.Split('@');
        var plus = at.Length == 2 ? at[1].Split('+') : [];
        if (plus.Length != 2)
        {
            throw Bad(spec, "expected NAME@S+SECONDS");
        }

        var seconds = Number(spec, plus[1], "SECONDS");
        return seconds is > 0 and <= 3600
            ? new Partition(Name(spec, at[0]), Index(spec, plus[0], "step S"), TimeSpan.FromSeconds(seconds))
            : throw Bad(spec, $"SECONDS must be in (0, 3600], got {plus[1]}");
    }

    private static SlowDevice ParseSlow(string spec, string args)
    {
        var parts = args.Split('*');
        if (parts.Length != 2)
        {
            throw Bad(spec, "expected R*K");
        }

        var factor = Number(spec, parts[1], "factor K");
        return factor is >= 1 and <= 1000
            ? new SlowDevice(Index(spec, parts[0], "device R"), factor)
            : throw Bad(spec, $"factor K must be in [1, 1000], got {parts[1]}");
    }

    private static double ParseProbability(string spec, string text)
    {
        var p = Number(spec, text, "probability P");
        return p is >= 0 and <= 1 ? p : throw Bad(spec, $"probability P must be in [0, 1], got {text}");
    }

    private static TimeSpan Milliseconds(string spec, string text, string what)
    {
        var ms = Number(spec, text, what);
        return ms is >= 0 and <= 60_000 ? TimeSpan.FromMilliseconds(ms) : throw Bad(spec, $"{what} must be in [0, 60000] ms, got {text}");
    }

    private static int Index(string spec, string text, string what) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Bad(spec, $"{what} must be an integer ≥ 0, got '{text}'");

    private static double Number(string spec, string text, string what) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw Bad(spec, $"{what} must be a number, got '{text}'");

    private static string Name(string spec, string text) =>
        text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? text
            : throw Bad(spec, $"node NAME must be letters, digits, '-', '_' or '.', got '{text}'");

    private static ArgumentException Bad(string spec, string problem) =>
        new($"fault '{spec}': {problem}; allowed: {Allowed}", nameof(spec));

    private static string Format(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);

    /// <summary>
    /// Stop device <paramref name="Device"/> when it reaches ring step <paramref name="Step"/>. Written <c>?</c>, either is drawn
    /// per trial (<see cref="FaultPlan.ForTrial"/>); the spelling, and so the fault's name in reports, keeps the <c>?</c>.
    /// </summary>
    public sealed record KillDevice(int Device, int Step, bool RandomDevice = false, bool RandomStep = false) : FaultSpec
    {
        public override string ToString() => $"kill-device:{(RandomDevice ? "?" : Device)}@{(RandomStep ? "?" : Step)}";
    }

    /// <summary>Kill the node process <paramref name="Node"/> (SIGKILL) at ring step <paramref name="Step"/>; cluster runs only.</summary>
    public sealed record CrashNode(string Node, int Step) : FaultSpec
    {
        public override bool NeedsCluster => true;

        public override string ToString() => $"crash-node:{Node}@{Step}";
    }

    /// <summary>Lose each hand-off with probability <paramref name="Probability"/>, on every link or only into device <paramref name="IntoDevice"/>.</summary>
    public sealed record Drop(double Probability, int? IntoDevice) : FaultSpec
    {
        public override string ToString() => IntoDevice is { } r ? $"drop:{Format(Probability)}@{r}" : $"drop:{Format(Probability)}";
    }

    /// <summary>Delay each hand-off by <paramref name="Mean"/> ± a uniform <paramref name="Jitter"/>.</summary>
    public sealed record Delay(TimeSpan Mean, TimeSpan Jitter) : FaultSpec
    {
        public override string ToString() =>
            Jitter > TimeSpan.Zero ? $"delay:{Format(Mean.TotalMilliseconds)}~{Format(Jitter.TotalMilliseconds)}" : $"delay:{Format(Mean.TotalMilliseconds)}";
    }

    /// <summary>Deliver each hand-off twice with probability <paramref name="Probability"/>.</summary>
    public sealed record Duplicate(double Probability) : FaultSpec
    {
        public override string ToString() => $"duplicate:{Format(Probability)}";
    }

    /// <summary>Cut node <paramref name="Node"/> off at the transport level from step <paramref name="Step"/> for <paramref name="Duration"/>; cluster runs only.</summary>
    public sealed record Partition(string Node, int Step, TimeSpan Duration) : FaultSpec
    {
        public override bool NeedsCluster => true;

        public override string ToString() => $"partition:{Node}@{Step}+{Format(Duration.TotalSeconds)}";
    }

    /// <summary>Device <paramref name="Device"/> computes <paramref name="Factor"/> times slower.</summary>
    public sealed record SlowDevice(int Device, double Factor) : FaultSpec
    {
        public override string ToString() => $"slow-device:{Device}*{Format(Factor)}";
    }
}
