using System.Diagnostics;

namespace RingActors.Actors.Faults;

/// <summary>
/// One fault of the plan as it played out in a job: how often it struck, when it was first injected and first detected
/// (since the ring started), how it was recovered, how long recovery took (median and worst over its occurrences), and the
/// retransmissions and extra bytes it cost.
/// </summary>
public sealed record FaultRecord(
    string Fault,
    int Occurrences,
    TimeSpan? FirstInjected,
    TimeSpan? FirstDetected,
    string Recovery,
    TimeSpan? MedianTimeToRecover,
    TimeSpan? WorstTimeToRecover,
    int Retransmissions,
    long ExtraBytes);

/// <summary>What the faults of a job's plan did: one record per fault, device re-creations, and totals.</summary>
public sealed record FaultReport(string Plan, int Seed, int Trial, IReadOnlyList<FaultRecord> Records, int Restarts, long PairsRecomputed)
{
    public int Retransmissions => Records.Sum(r => r.Retransmissions);

    public long ExtraBytes => Records.Sum(r => r.ExtraBytes);
}

/// <summary>Collects <see cref="FaultEvent"/>s during a job and sums them up per fault (plain class, owned by the supervisor).</summary>
public sealed class FaultLedger(FaultPlan plan, int trial)
{
    private readonly List<FaultEvent> _events = [];

    public int Restarts { get; set; }

    public long PairsRecomputed { get; set; }

    public IReadOnlyList<FaultEvent> Events => _events;

    public void Add(FaultEvent e) => _events.Add(e);

    /// <summary>The report, times relative to <paramref name="ringStartedAt"/> (a Stopwatch timestamp).</summary>
    public FaultReport Report(long ringStartedAt)
    {
        TimeSpan? Since(long t) => t == 0 ? null : Stopwatch.GetElapsedTime(ringStartedAt, t);
        var records = new List<FaultRecord>();
        var names = plan.Faults.Select(f => f.ToString()).Concat(_events.Select(e => e.Fault)).Distinct();
        foreach (var name in names)
        {
            var events = _events.Where(e => e.Fault == name).ToList();
            if (events.Count == 0)
            {
                var idle = plan.Faults.FirstOrDefault(f => f.ToString() == name) is FaultSpec.SlowDevice
                    ? "none needed: in effect throughout, its neighbours wait (credits)"
                    : "not triggered";
                records.Add(new FaultRecord(name, 0, null, null, idle, null, null, 0, 0));
                continue;
            }

            var recoveries = events.Where(e => e.RecoveredAt != 0)
                .Select(e => Stopwatch.GetElapsedTime(e.InjectedAt, e.RecoveredAt)).Order().ToList();
            records.Add(new FaultRecord(
                name,
                events.Count,
                Since(events.Min(e => e.InjectedAt)),
                events.Any(e => e.DetectedAt != 0) ? Since(events.Where(e => e.DetectedAt != 0).Min(e => e.DetectedAt)) : null,
                string.Join("; ", events.Select(e => e.Recovery).Distinct()),
                recoveries.Count == 0 ? null : recoveries[recoveries.Count / 2],
                recoveries.Count == 0 ? null : recoveries[^1],
                events.Sum(e => e.Retransmissions),
                events.Sum(e => e.ExtraBytes)));
        }

        return new FaultReport(plan.Describe(), plan.Seed, trial, records, Restarts, PairsRecomputed);
    }
}
