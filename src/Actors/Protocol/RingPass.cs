namespace RingActors.Actors.Protocol;

/// <summary>
/// Which pass of a job a ring message belongs to. A job with a backward pass runs the ring twice over the same links: the
/// forward, then (once every forward result is in) the backward. Every hand-off, credit and link announcement names its
/// pass, so a late message of the forward is never taken for one of the backward.
/// </summary>
public enum RingPass : byte
{
    Forward = 0,
    Backward = 1,
}
