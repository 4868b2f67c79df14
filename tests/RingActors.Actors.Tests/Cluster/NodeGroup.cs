using RingActors.Actors.Cluster;

namespace RingActors.Actors.Tests.Cluster;

/// <summary>
/// The cluster nodes of one spec, which all leave together when it is disposed: `await using` each node separately leaves
/// them one after another, and each leave waits about a second for the others' gossip.
/// </summary>
internal sealed class NodeGroup : IAsyncDisposable
{
    private readonly List<ClusterNode> _nodes = [];

    /// <summary>Starts a node of this group.</summary>
    public ClusterNode Start(ClusterNodeOptions options)
    {
        var node = ClusterNode.Start(options);
        _nodes.Add(node);
        return node;
    }

    public async ValueTask DisposeAsync() => await Task.WhenAll(_nodes.Select(node => node.DisposeAsync().AsTask()));
}
