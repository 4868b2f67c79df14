using Akka.Actor;
using RingActors.Actors.Devices;
using RingActors.Math;
using RingActors.Math.Modelling;

namespace RingActors.Actors.Protocol;

/// <summary>
/// The messages devices and the supervisor exchange. Commands are imperative, events past tense.
/// Every message that travels between devices names its job, so a stray message of another job is refused, never merged.
/// </summary>
public static class RingProtocol
{
    /// <summary>
    /// Supervisor → device: the device's query chunk [B, H, n_q, d] and its own key/value block [B, Hkv, n_k, d] each,
    /// with the global positions of their tokens, and who its neighbours and supervisor are.
    /// </summary>
    public sealed record AssignChunk(
        string JobId,
        float[] Queries,
        int[] QueryPositions,
        float[] Keys,
        float[] Values,
        int[] KeyPositions,
        IActorRef Predecessor,
        IActorRef Successor,
        IActorRef Supervisor) : IRingMessage;

    /// <summary>
    /// Supervisor → a re-created device (epoch ≥ 1): its query chunk and every key/value block it needs, in step order (block s
    /// is the one of device (r − s) mod P), since the partial of its previous incarnation died with it; with the current
    /// incarnations of its neighbours. It starts at once.
    /// </summary>
    public sealed record RecoverChunk(
        string JobId,
        float[] Queries,
        int[] QueryPositions,
        IReadOnlyList<KeyValueBlock> Blocks,
        IActorRef Predecessor,
        IActorRef Successor,
        IActorRef Supervisor) : IRingMessage;

    /// <summary>
    /// Supervisor → device: start computing on the own block and send it on. Sent again by the supervisor's watchdog
    /// (<see cref="RingWatchdog"/>) while the device has not acknowledged it; a device that already runs answers a repeat with
    /// <see cref="SetupTaken"/> and, once it has reported, with its <see cref="ChunkCompleted"/> again.
    /// </summary>
    public sealed record StartRing(string JobId) : IRingMessage;

    /// <summary>
    /// Device → supervisor: the device holds its chunk (from <see cref="AssignChunk"/> or <see cref="RecoverChunk"/>) and, when
    /// <see cref="Started"/>, runs the ring. The acknowledgement of the one-shot setup messages; repeated for every repeat of them.
    /// <see cref="StartedAt"/> is the device's Stopwatch timestamp when it began the ring (0 before): with the time the order to
    /// start left and this answer arrived, it puts the device's clock on the supervisor's (<see cref="MeasuredTimelines"/>).
    /// </summary>
    public sealed record SetupTaken(string JobId, int Device, bool Started, long StartedAt = 0) : IRingMessage;

    /// <summary>
    /// Device → successor: a key/value block to hand on and compute on. <see cref="Step"/> is the receiver's step for it,
    /// so <see cref="Origin"/> = (receiver − step) mod P; <see cref="Sequence"/> counts blocks sent on this link (0, 1, …);
    /// <see cref="ReadySince"/> is the <see cref="System.Diagnostics.Stopwatch"/> timestamp at which the sender had the block
    /// and wanted to send it (start of the hand-off, for the overlap measure; comparable only between devices of one machine).
    /// K and V are [B, Hkv, n, d] float32 (both empty in a phantom job: only the positions travel);
    /// <see cref="Positions"/> are the global positions of the block's n tokens. <see cref="VirtualSentAt"/> is the simulated
    /// send time of the hand-off when the job runs in virtual time (see <see cref="VirtualDeviceClock"/>), else null.
    /// <see cref="Pass"/> says whether the block travels in the forward or the backward ring.
    /// </summary>
    public sealed record AcceptBlock(
        string JobId,
        int Origin,
        int Step,
        long Sequence,
        long ReadySince,
        float[] Keys,
        float[] Values,
        int[] Positions,
        double? VirtualSentAt = null,
        RingPass Pass = RingPass.Forward) : IRingMessage
    {
        /// <summary>Bytes of the K and V payload (float32), what a hand-off moves.</summary>
        public long PayloadBytes => ((long)Keys.Length + Values.Length) * sizeof(float);
    }

    /// <summary>
    /// Device → predecessor: you may send <see cref="Credits"/> more blocks. A device returns a credit when it releases a block,
    /// so it never holds more than its limit (two: the one it computes on and the next). <see cref="VirtualReleasedAt"/> is the
    /// simulated time the freed slots were released when the job runs in virtual time, else null.
    /// </summary>
    public sealed record GrantCredit(string JobId, int Credits, double? VirtualReleasedAt = null, RingPass Pass = RingPass.Forward) : IRingMessage;

    /// <summary>Device → sender and supervisor: a block was refused (unknown job, wrong shape, wrong step, no credit) and not merged.</summary>
    public sealed record BlockRefused(string JobId, int Device, int Origin, int Step, string Reason) : IRingMessage;

    /// <summary>Device → supervisor: the block of <see cref="Origin"/> was merged at <see cref="Step"/> (or skipped as wholly masked).</summary>
    public sealed record BlockComputed(string JobId, int Device, int Step, int Origin, bool Skipped, long PairsComputed, RingPass Pass = RingPass.Forward) : IRingMessage;

    /// <summary>
    /// Device → supervisor: all P blocks are merged. <see cref="Output"/> is the chunk's attention [B, H, n_q, d] and
    /// <see cref="Lse"/> its log-sum-exp [B, H, n_q], rows in the order of the chunk's positions (both empty in a phantom job).
    /// <see cref="MeasuredTimeline"/> is the device's wall-clock timeline in Stopwatch seconds, <see cref="VirtualTimeline"/> its
    /// simulated one when the job runs in virtual time; neither holds the idle wait after the last step.
    /// </summary>
    public sealed record ChunkCompleted(
        string JobId,
        int Device,
        float[] Output,
        float[] Lse,
        DeviceStats Stats,
        DeviceTimeline? MeasuredTimeline = null,
        DeviceTimeline? VirtualTimeline = null) : IRingMessage;

    /// <summary>Caller → supervisor: run the job the supervisor was created for; the reply is JobCompleted (beside the supervisor: it carries the whole result) or <see cref="JobFailed"/>.</summary>
    public sealed record RunJob : IRingMessage
    {
        public static readonly RunJob Instance = new();

        private RunJob()
        {
        }
    }

    /// <summary>Caller → supervisor: give up the job; the pending reply becomes a <see cref="JobFailed"/> saying so.</summary>
    public sealed record CancelJob : IRingMessage
    {
        public static readonly CancelJob Instance = new();

        private CancelJob()
        {
        }
    }

    /// <summary>Supervisor → caller: the job failed, with a one-line reason (which device, which step, what happened).</summary>
    public sealed record JobFailed(string JobId, string Reason, bool Cancelled = false) : IRingMessage;
}
