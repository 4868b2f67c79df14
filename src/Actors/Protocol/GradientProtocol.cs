using Akka.Actor;
using RingActors.Math;
using RingActors.Math.Modelling;

namespace RingActors.Actors.Protocol;

/// <summary>
/// The backward pass's own messages. Key/value blocks travel the ring as in the forward (<see cref="RingProtocol.AcceptBlock"/>
/// with <see cref="RingPass.Backward"/>); each device adds its chunk's dQ locally and sends its dK/dV contribution for a block
/// straight to that block's home device (<see cref="Contribution"/>), which sums exactly one contribution per contributor.
/// </summary>
public static class GradientProtocol
{
    /// <summary>
    /// Supervisor → device whose forward is complete: run the backward. <paramref name="OutputGradient"/> is dO of the device's
    /// chunk [B, H, n_q, d] in the chunk's token order; <paramref name="Homes"/> and <paramref name="HomeEpochs"/> are the
    /// current incarnation of every device (where contributions to each block go).
    /// </summary>
    public sealed record StartBackward(string JobId, float[] OutputGradient, IReadOnlyList<IActorRef> Homes, IReadOnlyList<int> HomeEpochs) : IRingMessage;

    /// <summary>
    /// Supervisor → a device re-created during the backward (epoch ≥ 1): its query chunk, dO, the forward's output and lse of its
    /// chunk (from the forward results the supervisor holds), every key/value block in step order, and the current incarnations
    /// of its neighbours and of every home. It recomputes its dQ and all its contributions, and sums its own block's again.
    /// </summary>
    public sealed record RecoverBackward(
        string JobId,
        float[] Queries,
        int[] QueryPositions,
        float[] OutputGradient,
        float[] Output,
        float[] Lse,
        IReadOnlyList<KeyValueBlock> Blocks,
        IReadOnlyList<IActorRef> Homes,
        IReadOnlyList<int> HomeEpochs,
        IActorRef Predecessor,
        IActorRef Successor,
        IActorRef Supervisor) : IRingMessage;

    /// <summary>
    /// Supervisor → every other device: device <paramref name="Home"/> was re-created as <paramref name="HomeRef"/>
    /// (incarnation <paramref name="HomeEpoch"/>) and lost the sums of its block; compute your contribution to
    /// <paramref name="Block"/> (its keys and values) again and send it there.
    /// </summary>
    public sealed record RecomputeContribution(string JobId, int Home, int HomeEpoch, IActorRef HomeRef, KeyValueBlock Block) : IRingMessage;

    /// <summary>
    /// Contributor → home: device <paramref name="Contributor"/>'s dK and dV contribution [B, Hkv, n, d] to the block of device
    /// <paramref name="Home"/>, for the home's incarnation <paramref name="HomeEpoch"/>, number <paramref name="Sequence"/> of
    /// the contributor's incarnation <paramref name="ContributorEpoch"/>. Empty arrays: the pair was wholly masked (a zero
    /// contribution that still counts).
    /// </summary>
    public sealed record Contribution(string JobId, int Contributor, int ContributorEpoch, int Home, int HomeEpoch, long Sequence, float[] Keys, float[] Values) : IRingMessage;

    /// <summary>Home → contributor: contribution <paramref name="Sequence"/> of <paramref name="ContributorEpoch"/> arrived (summed now or before).</summary>
    public sealed record ContributionAck(string JobId, int Home, int ContributorEpoch, long Sequence, bool Duplicate) : IRingMessage;

    /// <summary>
    /// Device → supervisor: the backward of the device is complete: dQ of its chunk [B, H, n_q, d], and dK and dV of its own
    /// block [B, Hkv, n_k, d] summed over all P contributors, rows in the chunk's token order.
    /// </summary>
    public sealed record GradientsCompleted(
        string JobId,
        int Device,
        float[] QueryGradient,
        float[] KeyGradient,
        float[] ValueGradient,
        DeviceStats Stats,
        DeviceTimeline? MeasuredTimeline = null) : IRingMessage;
}
