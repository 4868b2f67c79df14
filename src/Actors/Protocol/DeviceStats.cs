namespace RingActors.Actors.Protocol;

/// <summary>
/// What one device did in one job. Times are wall-clock on the device; bytes count float32 payloads
/// (K and V for blocks, Q for the query chunk, output and lse for the partial result).
/// </summary>
/// <param name="QueryTokens">Tokens of the device's query chunk.</param>
/// <param name="BlocksComputed">Blocks merged into the partial result.</param>
/// <param name="BlocksSkipped">Blocks whose (query chunk, key block) pair the mask leaves wholly empty: never computed.</param>
/// <param name="PairsComputed">Query–key pairs the kernel computed (whole tiles; see BlockWork).</param>
/// <param name="Flops">4·d FLOPs per computed pair.</param>
/// <param name="ComputeTime">Time the kernel (and the slow-compute test hook) ran.</param>
/// <param name="ComputeQueueTime">Time blocks waited for a thread of the compute dispatcher after being issued.</param>
/// <param name="WaitingTime">Time between start and finish when the device had finished a block and the next one had not arrived.</param>
/// <param name="BytesSent">K and V bytes handed on to the successor.</param>
/// <param name="BytesReceived">K and V bytes accepted from the predecessor.</param>
/// <param name="HandOffsSent">Blocks handed on: P − 1 per job.</param>
/// <param name="HandOffsReceived">Blocks accepted from the predecessor: P − 1 per job.</param>
/// <param name="HandOffsDelayedByCredit">Hand-offs that had to wait for a credit from the successor.</param>
/// <param name="PeakResidentBytes">Largest Q + held K/V blocks + partial output and lse at any moment.</param>
/// <param name="PeakBlocksHeld">Largest number of key/value blocks held at once (never above the limit).</param>
/// <param name="DuplicatesDropped">Blocks received a second time and dropped.</param>
/// <param name="BlocksRefused">Blocks refused (unknown job, wrong shape or step, no credit).</param>
/// <param name="HandOffTime">Sum over the blocks this device received of their hand-off time: from the moment the sender had the block and wanted to send it to the moment this device accepted it.</param>
/// <param name="HiddenHandOffTime">The part of <paramref name="HandOffTime"/> during which this device had a block to compute (issued to its compute worker, queued or running): the hand-off cost it nothing.</param>
public sealed record DeviceStats(
    int Device,
    int QueryTokens,
    int BlocksComputed,
    int BlocksSkipped,
    long PairsComputed,
    double Flops,
    TimeSpan ComputeTime,
    TimeSpan ComputeQueueTime,
    TimeSpan WaitingTime,
    long BytesSent,
    long BytesReceived,
    int HandOffsSent,
    int HandOffsReceived,
    int HandOffsDelayedByCredit,
    long PeakResidentBytes,
    int PeakBlocksHeld,
    int DuplicatesDropped,
    int BlocksRefused,
    TimeSpan HandOffTime,
    TimeSpan HiddenHandOffTime)
{
    /// <summary>Serialized bytes this device sent to actors on other nodes (hand-offs, credits, events; 0 in one process).</summary>
    public long NetworkBytesSent { get; init; }

    /// <summary>Of <see cref="NetworkBytesSent"/>: link frames (hand-offs and retransmissions) and announcements to the successor.</summary>
    public long NetworkBytesToSuccessor { get; init; }

    /// <summary>Of <see cref="NetworkBytesSent"/>: acknowledgements, credits and resumes to the predecessor.</summary>
    public long NetworkBytesToPredecessor { get; init; }

    /// <summary>
    /// Of <see cref="NetworkBytesSent"/>: progress and fault events to the supervisor (the result itself is counted by the
    /// supervisor, which receives it).
    /// </summary>
    public long NetworkBytesToSupervisor { get; init; }

    /// <summary>Link frames refused as stale (addressed to another incarnation of this device, or from an older one of its predecessor).</summary>
    public int StaleFramesRefused { get; init; }

    /// <summary>Frames this device's outbound link sent again: retransmissions after a lost acknowledgement, duplicates, re-routes.</summary>
    public int Retransmissions { get; init; }

    /// <summary>The incarnation that produced these statistics: 0, or the number of times the device was re-created.</summary>
    public int Epoch { get; init; }

    /// <summary>Backward only: dK/dV contributions this device sent to other devices' blocks (first transmissions).</summary>
    public int ContributionsSent { get; init; }

    /// <summary>Backward only: contributions summed into this device's own block, its own included (P for a complete backward).</summary>
    public int ContributionsSummed { get; init; }

    /// <summary>Backward only: contributions that reached this device again (a duplicate or a retransmission) and were not summed twice.</summary>
    public int ContributionDuplicates { get; init; }

    /// <summary>Backward only: contributions computed again because their home device was re-created.</summary>
    public int ContributionsRecomputed { get; init; }
}
