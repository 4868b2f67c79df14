namespace RingActors.Actors;

/// <summary>Load balance of a ring: how much more the busiest device did than the mean.</summary>
public static class WorkBalance
{
    /// <summary>max / mean of the work counts; 1 when all are equal, and 1 when there is no work at all.</summary>
    public static double Imbalance(IEnumerable<long> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var counts = work.ToArray();
        if (counts.Length == 0)
        {
            return 1;
        }

        var mean = counts.Average(c => (double)c);
        return mean == 0 ? 1 : counts.Max() / mean;
    }
}
