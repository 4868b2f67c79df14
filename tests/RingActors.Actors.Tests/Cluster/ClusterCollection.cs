namespace RingActors.Actors.Tests.Cluster;

/// <summary>Specs that start real cluster nodes run one at a time: they share loopback ports and 2 cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterCollection
{
    public const string Name = "Cluster nodes";
}
