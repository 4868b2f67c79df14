namespace RingActors.Math.IO;

/// <summary>Builds the one-line <see cref="InvalidDataException"/> for a .npy file that cannot be read: "SOURCE: what is wrong".</summary>
internal static class NpyError
{
    public static InvalidDataException In(string source, string problem) => new($"{source}: {problem}");
}
