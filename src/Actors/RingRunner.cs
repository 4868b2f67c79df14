using Akka.Actor;
using RingActors.Actors.Configuration;
using RingActors.Actors.Protocol;
using RingActors.Math;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors;

/// <summary>The plain entry point the Host calls: runs one ring job in an ActorSystem and returns its result.</summary>
public static class RingRunner
{
    /// <summary>Extra time the caller waits beyond the job's deadline, in case the supervisor itself cannot answer.</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(30);

    private static long _jobs;

    /// <summary>
    /// Computes the attention of <paramref name="input"/> on a ring of <see cref="RingJobSettings.Devices"/> device actors and
    /// returns the reassembled output and lse with each device's statistics.
    /// Throws <see cref="ArgumentException"/> for settings that cannot run (P &gt; N, …) before anything starts,
    /// <see cref="RingJobException"/> when the job fails (the message says which device and why), and
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public static async Task<RingResult> RunAsync(
        ActorSystem system,
        AttentionInput input,
        RingJobSettings settings,
        IProgress<RingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(system);
        var job = RingJob.Create(input, settings, RingActorsSettings.Create(system));
        cancellationToken.ThrowIfCancellationRequested();
        // The supervisor obeys CancelJob only once this token has fired: its name is predictable, and a peer could send one too.
        var supervisor = system.ActorOf(RingSupervisor.Props(job, progress, cancellationToken), $"{SenderPaths.SupervisorPrefix}{Interlocked.Increment(ref _jobs)}");
        await using var registration = cancellationToken.Register(() => supervisor.Tell(CancelJob.Instance)).ConfigureAwait(false);
        IRingMessage reply;
        try
        {
            reply = await supervisor.Ask<IRingMessage>(RunJob.Instance, job.Deadline + Grace, CancellationToken.None).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            supervisor.Tell(PoisonPill.Instance);
            throw new RingJobException(job.JobId, $"no answer from the ring supervisor within {job.Deadline + Grace}");
        }

        return reply switch
        {
            JobCompleted completed => completed.Result,
            JobFailed { Cancelled: true } failed => throw new OperationCanceledException($"ring job {failed.JobId} {failed.Reason}", cancellationToken),
            JobFailed failed => throw new RingJobException(failed.JobId, failed.Reason),
            _ => throw new RingJobException(job.JobId, $"unexpected answer {reply.GetType().Name}"),
        };
    }
}
