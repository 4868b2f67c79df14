using System.Diagnostics;

namespace RingActors.Actors.Devices;

/// <summary>The slow-device fault: a compute made to last <c>factor</c> times as long, holding its thread as a slow kernel would.</summary>
internal static class SlowCompute
{
    public static ComputeOutcome Stretch(ComputeOutcome outcome, double factor)
    {
        var until = outcome.FinishedAt + (long)((outcome.FinishedAt - outcome.StartedAt) * (factor - 1));
        var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), until);
        if (remaining > TimeSpan.FromMilliseconds(2))
        {
            Thread.Sleep(remaining - TimeSpan.FromMilliseconds(1));
        }

        while (Stopwatch.GetTimestamp() < until)
        {
            Thread.SpinWait(64);
        }

        return outcome with { FinishedAt = Stopwatch.GetTimestamp() };
    }
}
