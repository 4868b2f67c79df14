using System.Globalization;
using Akka.Actor;

namespace RingActors.Actors.Cluster;

/// <summary>
/// Which cluster node runs which device of a ring, and where a device goes when its node is lost: the one placement used by
/// <c>run --cluster</c>, <c>experiment --cluster</c>, <c>bench cluster</c> and the supervisor. Immutable: a move gives a new
/// placement. Nodes are named in faults and options by index (in order of first appearance: node 0 runs device 0) or address.
/// </summary>
public sealed class DevicePlacement
{
    private readonly Address[] _nodes;

    /// <summary>Device r runs on <paramref name="nodes"/>[r].</summary>
    public DevicePlacement(IReadOnlyList<Address> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        if (nodes.Count == 0 || nodes.Any(n => n is null))
        {
            throw new ArgumentException("a placement names one node per device, at least one", nameof(nodes));
        }

        _nodes = [.. nodes];
        Nodes = _nodes.Distinct().ToArray();
    }

    /// <summary>Devices placed.</summary>
    public int Devices => _nodes.Length;

    /// <summary>The distinct nodes of the placement, in order of first appearance (node 0 runs device 0).</summary>
    public IReadOnlyList<Address> Nodes { get; }

    /// <summary>The node of device <paramref name="device"/>.</summary>
    public Address this[int device] => _nodes[device];

    /// <summary>
    /// Places <paramref name="devices"/> devices on <paramref name="members"/> (ordered as given): <c>round-robin</c> (the
    /// default), <c>packed</c> (⌈P/K⌉ consecutive devices per node), or a comma-separated list naming one member per device
    /// (address or host:port). Throws an <see cref="ArgumentException"/> with a one-line reason.
    /// </summary>
    public static DevicePlacement Place(string? strategy, int devices, IReadOnlyList<Address> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (devices < 1)
        {
            throw new ArgumentException($"devices must be ≥ 1, got {devices}", nameof(devices));
        }

        if (members.Count == 0)
        {
            throw new ArgumentException("no device member is Up", nameof(members));
        }

        if (strategy is null or "round-robin")
        {
            return new(Enumerable.Range(0, devices).Select(r => members[r % members.Count]).ToArray());
        }

        if (strategy == "packed")
        {
            var perNode = (devices + members.Count - 1) / members.Count;
            return new(Enumerable.Range(0, devices).Select(r => members[r / perNode]).ToArray());
        }

        var named = NamedNodes(strategy)!;
        if (named.Count != devices)
        {
            throw new ArgumentException($"--placement names {named.Count} nodes for {devices} devices: give one per device, or round-robin / packed", nameof(strategy));
        }

        return new(named.Select(name => members.FirstOrDefault(m => Names(m, name))
            ?? throw new ArgumentException($"--placement: '{name}' is not a device member that is Up (members: {string.Join(", ", members)})", nameof(strategy))).ToArray());
    }

    /// <summary>The nodes a placement list names one by one, or null for the strategies round-robin and packed.</summary>
    public static IReadOnlyList<string>? NamedNodes(string? strategy) =>
        strategy is null or "round-robin" or "packed" ? null : strategy.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Node <paramref name="name"/>: an index into <see cref="Nodes"/>, an address, or host:port; null when none matches.</summary>
    public Address? Resolve(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            return index < Nodes.Count ? Nodes[index] : null;
        }

        return Nodes.FirstOrDefault(a => Names(a, name));
    }

    /// <summary>The nodes with their indices, for an error that asks the user to name one.</summary>
    public string DescribeNodes() => string.Join(", ", Nodes.Select((a, i) => $"{i}={a}"));

    /// <summary>Devices placed on <paramref name="node"/>.</summary>
    public IEnumerable<int> DevicesOn(Address node) => Enumerable.Range(0, Devices).Where(r => _nodes[r].Equals(node));

    /// <summary>
    /// Where a re-created device <paramref name="device"/> goes: its own node while that one is not <paramref name="down"/>,
    /// else a surviving node of the placement (spread by device index); null when every node is down.
    /// </summary>
    public Address? SurvivorFor(int device, IReadOnlySet<Address> down)
    {
        ArgumentNullException.ThrowIfNull(down);
        var survivors = Nodes.Where(a => !down.Contains(a)).ToList();
        if (survivors.Count == 0)
        {
            return null;
        }

        return survivors.Contains(_nodes[device]) ? _nodes[device] : survivors[device % survivors.Count];
    }

    /// <summary>This placement with device <paramref name="device"/> on <paramref name="node"/> (its nodes' indices stay as they were).</summary>
    public DevicePlacement Moved(int device, Address node)
    {
        var nodes = (Address[])_nodes.Clone();
        nodes[device] = node;
        return new DevicePlacement(nodes, Nodes);
    }

    /// <summary>Each device's node as text (for reports).</summary>
    public IReadOnlyList<string> Describe() => _nodes.Select(a => a.ToString()).ToArray();

    private DevicePlacement(Address[] nodes, IReadOnlyList<Address> originalNodes)
    {
        _nodes = nodes;
        Nodes = originalNodes;
    }

    private static bool Names(Address address, string name) =>
        address.ToString() == name || $"{address.Host}:{address.Port}" == name;
}
