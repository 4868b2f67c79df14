namespace RingActors.Math.Modelling;

/// <summary>
/// A deterministic discrete-event model of one Ring Attention pass over P devices in simulated seconds: each device
/// keeps its own clock and follows <see cref="StepTiming"/>. Device r starts with its own block (step 0); at step k it
/// computes on the block of origin (r − k) mod P, which it received from r − 1 and, unless k = P − 1, forwards to r + 1
/// as soon as it holds it and the successor has a free buffer. The result depends on the inputs alone, never on the host.
/// </summary>
public static class RingTimelineSimulator
{
    /// <summary>
    /// Simulates <paramref name="workload"/> on a ring of <paramref name="profile"/> devices. With
    /// <paramref name="recordIntervals"/> false only the totals are kept (1,024 devices make about 3 million intervals).
    /// </summary>
    public static RingTimeline Run(DeviceProfile profile, RingWorkload workload, bool recordIntervals = true)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(workload);
        var p = workload.Devices;
        var compute = workload.ComputeSeconds;
        var blockBytes = workload.BlockBytes;

        // One slot per device, rolled from step to step: the simulation is step-major because everything at step k
        // depends only on step k − 1 (arrivals, the successor's releases) and on the device's own step k − 1.
        var freeAt = new double[p];
        var heldAt = new double[p];          // arrival of the block of the current step
        var nextHeldAt = new double[p];
        var sentAt = new double[p];          // predecessor's send of the current step's block
        var nextSentAt = new double[p];
        var linkFreeAt = new double[p];
        var released = new double[p];       // release of the previous step's block
        var nextReleased = new double[p];
        var previousWindow = new StepWindow[p];
        var windowBefore = new StepWindow[p];
        var computeTotal = new double[p];
        var idleTotal = new double[p];
        var communicationTotal = new double[p];
        var hiddenTotal = new double[p];
        var intervals = recordIntervals ? new List<TimelineInterval>[p] : null;
        if (intervals is not null)
        {
            for (var r = 0; r < p; r++)
            {
                intervals[r] = new List<TimelineInterval>((3 * p) + 1);
            }
        }

        Array.Fill(released, double.NegativeInfinity);
        for (var step = 0; step < p; step++)
        {
            for (var r = 0; r < p; r++)
            {
                var window = StepTiming.Next(freeAt[r], heldAt[r], compute[((long)r * p) + step]);
                var list = intervals?[r];

                if (step > 0)
                {
                    var communication = new StepWindow(sentAt[r], heldAt[r]);
                    communicationTotal[r] += communication.Duration;
                    // The credit rule makes a hand-off start after the receiver released its block of step k − 2, so only
                    // the computes of steps k − 1 (and, harmlessly, k − 2) can overlap it; step k starts after it arrives.
                    hiddenTotal[r] += Overlap(communication, previousWindow[r]) + Overlap(communication, windowBefore[r]);
                    Add(list, IntervalKind.Communicate, communication.Start, communication.End, step);
                }

                idleTotal[r] += window.Start - freeAt[r];
                Add(list, IntervalKind.Idle, freeAt[r], window.Start, step);
                computeTotal[r] += window.Duration;
                Add(list, IntervalKind.Compute, window.Start, window.End, step);

                if (step < p - 1)
                {
                    var successor = r + 1 == p ? 0 : r + 1;
                    var origin = ((r - step) % p + p) % p;
                    var credit = StepTiming.CreditAt(released[successor], profile);
                    var send = StepTiming.Send(heldAt[r], linkFreeAt[r], credit, blockBytes[origin], profile);
                    linkFreeAt[r] = send.LinkFreeAt;
                    nextSentAt[successor] = send.Start;
                    nextHeldAt[successor] = send.ArrivesAt;
                    nextReleased[r] = StepTiming.ReleasedAt(window.End, send.LinkFreeAt);
                }

                windowBefore[r] = previousWindow[r];
                previousWindow[r] = window;
                freeAt[r] = window.End;
            }

            (heldAt, nextHeldAt) = (nextHeldAt, heldAt);
            (sentAt, nextSentAt) = (nextSentAt, sentAt);
            (released, nextReleased) = (nextReleased, released);
        }

        double total = 0;
        for (var r = 0; r < p; r++)
        {
            total = System.Math.Max(total, freeAt[r]);
        }

        var devices = new DeviceTimeline[p];
        double computeSum = 0, communicationSum = 0, hiddenSum = 0;
        for (var r = 0; r < p; r++)
        {
            // A device that finished early waits for the ring: shown as idle after its last step.
            idleTotal[r] += total - freeAt[r];
            Add(intervals?[r], IntervalKind.Idle, freeAt[r], total, p);
            devices[r] = new DeviceTimeline(r, (IReadOnlyList<TimelineInterval>?)intervals?[r] ?? [], computeTotal[r], idleTotal[r],
                communicationTotal[r], hiddenTotal[r], freeAt[r], p - 1);
            computeSum += computeTotal[r];
            communicationSum += communicationTotal[r];
            hiddenSum += hiddenTotal[r];
        }

        var overlap = communicationSum > 0 ? hiddenSum / communicationSum : 1;
        return new RingTimeline(devices, total, total / p, overlap, (long)p * (p - 1), computeSum, communicationSum, hiddenSum);
    }

    private static void Add(List<TimelineInterval>? list, IntervalKind kind, double start, double end, int step)
    {
        if (list is not null && end > start)
        {
            list.Add(new TimelineInterval(kind, start, end, step));
        }
    }

    private static double Overlap(StepWindow a, StepWindow b) =>
        System.Math.Max(0, System.Math.Min(a.End, b.End) - System.Math.Max(a.Start, b.Start));
}
