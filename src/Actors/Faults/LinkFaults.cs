namespace RingActors.Actors.Faults;

/// <summary>What the fault plan does to one transmission of a hand-off.</summary>
/// <param name="Dropped">The fault that lost it, or null when it goes out.</param>
/// <param name="Duplicated">The fault that sends it twice, or null.</param>
/// <param name="Delay">How long it is held back (zero: sent now).</param>
/// <param name="Delayed">The fault that delays it, or null.</param>
public readonly record struct TransmissionFate(FaultSpec? Dropped, FaultSpec? Duplicated, TimeSpan Delay, FaultSpec? Delayed);

/// <summary>
/// The fault decisions of one link (from device <c>link</c> to its successor) in one trial, drawn from the plan's seeded
/// random source in transmission order, so a trial replays exactly.
/// </summary>
public sealed class LinkFaults
{
    private readonly FaultSpec.Drop[] _drops;
    private readonly FaultSpec.Duplicate[] _duplicates;
    private readonly FaultSpec.Delay[] _delays;
    private readonly Random _random;

    public LinkFaults(FaultPlan plan, int trial, int link, int receiver)
    {
        ArgumentNullException.ThrowIfNull(plan);
        _drops = plan.Faults.OfType<FaultSpec.Drop>().Where(d => d.IntoDevice is null || d.IntoDevice == receiver).ToArray();
        _duplicates = plan.Faults.OfType<FaultSpec.Duplicate>().ToArray();
        _delays = plan.Faults.OfType<FaultSpec.Delay>().ToArray();
        _random = plan.RandomFor(trial, link);
    }

    /// <summary>The longest delay this link can impose (what an acknowledgement timeout must wait on top).</summary>
    public TimeSpan MaxDelay => _delays.Length == 0 ? TimeSpan.Zero : _delays.Max(d => d.Mean + d.Jitter);

    /// <summary>Draws the fate of the next transmission.</summary>
    public TransmissionFate Next()
    {
        FaultSpec? dropped = null, duplicated = null, delayed = null;
        var delay = TimeSpan.Zero;
        foreach (var drop in _drops)
        {
            if (_random.NextDouble() < drop.Probability)
            {
                dropped ??= drop;
            }
        }

        foreach (var duplicate in _duplicates)
        {
            if (_random.NextDouble() < duplicate.Probability)
            {
                duplicated ??= duplicate;
            }
        }

        foreach (var d in _delays)
        {
            var jitter = d.Jitter.TotalMilliseconds * ((2 * _random.NextDouble()) - 1);
            delay += TimeSpan.FromMilliseconds(d.Mean.TotalMilliseconds + jitter);
            delayed ??= d;
        }

        return new TransmissionFate(dropped, duplicated, delay, delayed);
    }
}
