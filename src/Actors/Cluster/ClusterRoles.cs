namespace RingActors.Actors.Cluster;

/// <summary>The roles a ring node can have: devices host device actors, a coordinator places them and runs jobs.</summary>
public static class ClusterRoles
{
    public const string Device = "device";

    public const string Coordinator = "coordinator";

    public static IReadOnlyList<string> All { get; } = [Device, Coordinator];

    /// <summary>Throws an <see cref="ArgumentException"/> unless <paramref name="role"/> is one of <see cref="All"/>.</summary>
    public static string Validate(string? role, string parameter = "role") =>
        role is Device or Coordinator
            ? role
            : throw new ArgumentException($"role must be {Device} or {Coordinator}, got '{role}'", parameter);
}
