namespace RingActors.Actors;

/// <summary>A ring job failed: a device threw or stopped, a block was refused, or the deadline passed. The message says which.</summary>
public sealed class RingJobException : Exception
{
    public RingJobException(string jobId, string reason)
        : base($"ring job {jobId} failed: {reason}")
    {
        JobId = jobId;
        Reason = reason;
    }

    public string JobId { get; }

    public string Reason { get; }
}
