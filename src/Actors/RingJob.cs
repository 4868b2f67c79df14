using RingActors.Actors.Configuration;
using RingActors.Math;

namespace RingActors.Actors;

/// <summary>One ring job as the supervisor runs it: the input, the job's settings and the system's, with defaults resolved.</summary>
public sealed record RingJob(string JobId, AttentionInput Input, RingJobSettings Settings, RingActorsSettings System)
{
    /// <summary>Threads of one device's kernel: the job's setting, else the system's.</summary>
    public int ThreadsPerDevice => Settings.ThreadsPerDevice ?? System.ThreadsPerDevice;

    /// <summary>Time after which the job fails: the job's setting, else the system's.</summary>
    public TimeSpan Deadline => Settings.Deadline ?? System.JobDeadline;

    /// <summary>Validates <paramref name="settings"/> against the input and draws a job id when none is given.</summary>
    public static RingJob Create(AttentionInput input, RingJobSettings settings, RingActorsSettings system)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(system);
        settings.Validate(input.Shape);
        if (input.IsPhantom && settings.VirtualTime is null)
        {
            throw new ArgumentException("a phantom input has no numbers to compute: run it in virtual time (RingJobSettings.VirtualTime)", nameof(input));
        }

        return new RingJob(settings.JobId ?? $"job-{Guid.NewGuid().ToString("N")[..8]}", input, settings, system);
    }
}
