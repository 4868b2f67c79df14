namespace RingActors.Actors.Serialization;

/// <summary>
/// The caps a <see cref="FrameReader"/> checks every length against before it allocates: the whole frame,
/// the elements of one array and the UTF-8 bytes of one string.
/// </summary>
public sealed record FrameLimits(int MaxFrameBytes, int MaxArrayElements, int MaxStringBytes)
{
    /// <summary>Throws an <see cref="ArgumentException"/> naming the cap that is not positive.</summary>
    public FrameLimits Validate()
    {
        if (MaxFrameBytes <= 0)
        {
            throw new ArgumentException($"max frame bytes must be ≥ 1, got {MaxFrameBytes}", nameof(MaxFrameBytes));
        }

        if (MaxArrayElements <= 0)
        {
            throw new ArgumentException($"max array elements must be ≥ 1, got {MaxArrayElements}", nameof(MaxArrayElements));
        }

        if (MaxStringBytes <= 0)
        {
            throw new ArgumentException($"max string bytes must be ≥ 1, got {MaxStringBytes}", nameof(MaxStringBytes));
        }

        return this;
    }
}
