using Akka.Configuration;

namespace RingActors.Actors.Faults;

/// <summary>
/// The faults of one experiment and how hard the ring tries to recover from them. Randomness is seeded: the fault decisions
/// of a trial are a function of (<see cref="Seed"/>, trial, link), so a trial can be replayed.
/// </summary>
/// <param name="Faults">What to inject.</param>
/// <param name="Seed">Seeds every random decision (drops, duplicates, jitter).</param>
/// <param name="Retries">Retransmissions of one hand-off before the job fails (≥ 0).</param>
/// <param name="AckTimeout">Time a link waits for a hand-off's acknowledgement (on top of any injected delay) before it retransmits.</param>
/// <param name="MaxRestarts">Device re-creations a job allows before it fails (≥ 0).</param>
public sealed record FaultPlan(IReadOnlyList<FaultSpec> Faults, int Seed = 0, int Retries = FaultPlan.DefaultRetries, TimeSpan? AckTimeout = null, int MaxRestarts = FaultPlan.DefaultMaxRestarts)
{
    public const int DefaultRetries = 5;
    public const int DefaultMaxRestarts = 8;

    /// <summary>No faults: the ring still runs over acknowledged links.</summary>
    public static readonly FaultPlan None = new([]);

    public static readonly TimeSpan DefaultAckTimeout = TimeSpan.FromMilliseconds(250);

    /// <summary>The acknowledgement timeout, defaulted.</summary>
    public TimeSpan Timeout => AckTimeout ?? DefaultAckTimeout;

    /// <summary>The faults' canonical spellings joined by commas (what a failure reason names).</summary>
    public string Describe() => Faults.Count == 0 ? "no faults" : string.Join(", ", Faults);

    /// <summary>Parses specs given on the command line.</summary>
    public static FaultPlan FromSpecs(IEnumerable<string> specs, int seed = 0) => new(specs.Select(FaultSpec.Parse).ToList(), seed);

    /// <summary>
    /// Reads a plan from a HOCON or JSON file (HOCON is a superset of JSON: one reader serves both), all keys under <c>faults</c>:
    /// <c>inject</c> (list of specs), <c>seed</c>, <c>retries</c>, <c>ack-timeout</c>, <c>max-restarts</c>.
    /// </summary>
    public static FaultPlan Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new ArgumentException($"fault plan '{path}' does not exist", nameof(path));
        }

        Config config;
        try
        {
            config = ConfigurationFactory.ParseString(File.ReadAllText(path));
        }
        catch (Exception e) when (e is not ArgumentException)
        {
            throw new ArgumentException($"fault plan '{path}' is neither HOCON nor JSON: {e.Message.Split('\n')[0]}", nameof(path), e);
        }

        return FromConfig(config, path);
    }

    /// <summary>Reads the <c>faults</c> section of <paramref name="config"/>; <paramref name="source"/> names it in errors.</summary>
    public static FaultPlan FromConfig(Config config, string source = "config")
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!config.HasPath("faults.inject"))
        {
            throw new ArgumentException($"fault plan '{source}' has no faults.inject list (e.g. faults {{ inject = [\"drop:0.05\"] }})", nameof(config));
        }

        var section = config.GetConfig("faults");
        try
        {
            var plan = new FaultPlan(
                section.GetStringList("inject").Select(spec => spec is null
                    ? throw new ArgumentException($"fault plan '{source}': faults.inject holds an empty entry", nameof(config))
                    : FaultSpec.Parse(spec)).ToList(),
                section.GetInt("seed", 0),
                section.GetInt("retries", DefaultRetries),
                section.HasPath("ack-timeout") ? section.GetTimeSpan("ack-timeout") : null,
                section.GetInt("max-restarts", DefaultMaxRestarts));
            return plan.Validate();
        }
        catch (Exception e) when (e is not ArgumentException)
        {
            throw new ArgumentException($"fault plan '{source}': {e.Message.Split('\n')[0]}", nameof(config), e);
        }
    }

    /// <summary>Checks the plan's own values (retries, timeouts); <see cref="ValidateFor"/> checks it against a job.</summary>
    public FaultPlan Validate()
    {
        if (Retries is < 0 or > 100)
        {
            throw new ArgumentException($"retries must be in 0..100, got {Retries}", nameof(Retries));
        }

        if (MaxRestarts is < 0 or > 1000)
        {
            throw new ArgumentException($"max-restarts must be in 0..1000, got {MaxRestarts}", nameof(MaxRestarts));
        }

        if (Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentException($"ack-timeout must be in (0, 10 min], got {Timeout}", nameof(AckTimeout));
        }

        return this;
    }

    /// <summary>
    /// Checks the plan against a ring of <paramref name="devices"/>: device indices and steps in range, node faults only on a cluster run.
    /// </summary>
    public FaultPlan ValidateFor(int devices, bool cluster = false, bool backward = false)
    {
        Validate();
        foreach (var fault in Faults)
        {
            if (fault.NeedsCluster && !cluster)
            {
                throw new ArgumentException($"fault '{fault}' needs a cluster run (--cluster): a single-process ring has no nodes to crash or partition", nameof(Faults));
            }

            var (device, step) = fault switch
            {
                FaultSpec.KillDevice k => (k.Device, k.Step),
                FaultSpec.Drop { IntoDevice: { } r } => (r, 0),
                FaultSpec.SlowDevice s => (s.Device, 0),
                FaultSpec.CrashNode c => (0, c.Step),
                FaultSpec.Partition p => (0, p.Step),
                _ => (0, 0),
            };
            if (device >= devices)
            {
                throw new ArgumentException($"fault '{fault}' names device {device}, the ring has devices 0..{devices - 1}", nameof(Faults));
            }

            // With a backward pass the job's steps go on: P..2P−1 are the backward's steps 0..P−1.
            var steps = backward ? 2 * devices : devices;
            if (step >= steps)
            {
                throw new ArgumentException(
                    $"fault '{fault}' names step {step}, a ring of {devices} has steps 0..{steps - 1}" + (backward ? $" (P..{steps - 1}: the backward's)" : string.Empty),
                    nameof(Faults));
            }
        }

        return this;
    }

    /// <summary>
    /// The plan of trial <paramref name="trial"/> on a ring of <paramref name="devices"/>: every <c>?</c> of a kill-device is
    /// drawn from (<see cref="Seed"/>, trial), so the same trial always kills the same device at the same step. A random step
    /// is drawn from 0..<paramref name="steps"/>−1 (P by default; 2P for a job with a backward pass).
    /// </summary>
    public FaultPlan ForTrial(int trial, int devices, int? steps = null)
    {
        if (!Faults.Any(f => f is FaultSpec.KillDevice { RandomDevice: true } or FaultSpec.KillDevice { RandomStep: true }))
        {
            return this;
        }

        var random = RandomFor(trial, -1);
        return this with
        {
            Faults = Faults.Select(f => f is FaultSpec.KillDevice k
                ? k with { Device = k.RandomDevice ? random.Next(devices) : k.Device, Step = k.RandomStep ? random.Next(steps ?? devices) : k.Step }
                : f).ToList(),
        };
    }

    /// <summary>The random source of one link in one trial: the same (seed, trial, link) always gives the same decisions.</summary>
    public Random RandomFor(int trial, int link) => new(unchecked((Seed * 1_000_003) + (trial * 7_919) + (link * 104_729) + 17));
}
