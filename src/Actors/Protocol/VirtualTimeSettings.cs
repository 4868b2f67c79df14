using RingActors.Actors.Devices;
using RingActors.Math;
using RingActors.Math.Modelling;

namespace RingActors.Actors.Protocol;

/// <summary>
/// Runs a ring job in virtual time on modelled hardware: every device keeps a simulated clock (<see cref="VirtualDeviceClock"/>)
/// driven by the FLOPs and bytes of each step and <paramref name="Profile"/>, never by the host's wall clock, so the job's
/// <see cref="RingResult.VirtualTimeline"/> is the same whatever the host's load and equals <see cref="RingTimelineSimulator"/>'s.
/// </summary>
/// <param name="Profile">The modelled device and its link to the next one.</param>
/// <param name="DataType">Element type the modelled hand-offs carry: a block of n tokens is 2·n·d·H_kv·B elements of it.</param>
public sealed record VirtualTimeSettings(DeviceProfile Profile, ElementType DataType = ElementType.Fp32)
{
    /// <summary>Bytes a hand-off of a block of <paramref name="tokens"/> tokens moves on the modelled link.</summary>
    public long BlockBytes(int tokens, AttentionHeads heads) =>
        RingCostModel.HandOffBytes(tokens, heads.HeadDim, heads.KvHeads, DataType, heads.Batch);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the setting when it cannot be used.</summary>
    public VirtualTimeSettings Validate()
    {
        if (Profile is null)
        {
            throw new ArgumentException("virtual time needs a device profile", nameof(Profile));
        }

        if (!Enum.IsDefined(DataType))
        {
            throw new ArgumentException($"unknown element type {DataType}", nameof(DataType));
        }

        return this;
    }
}
