namespace RingActors.Actors.Protocol;

/// <summary>
/// Marker of every message of the ring protocol. The binary serializer (issue 4) binds to this interface,
/// never to <see cref="object"/>, so every implementation stays plain data: arrays, numbers, strings and actor refs.
/// </summary>
public interface IRingMessage
{
}
