using Akka.Actor;
using RingActors.Actors.Cluster;

namespace RingActors.Actors.Tests.Cluster;

public class DevicePlacementSpec
{
    private static readonly Address A = new("akka.tcp", "ring", "127.0.0.1", 4001);
    private static readonly Address B = new("akka.tcp", "ring", "127.0.0.1", 4002);
    private static readonly Address C = new("akka.tcp", "ring", "127.0.0.1", 4003);

    [Fact]
    public void DevicePlacement_must_place_round_robin_packed_or_by_name()
    {
        Assert.Equal([A, B, C, A, B], Nodes(DevicePlacement.Place(null, 5, [A, B, C])));
        Assert.Equal([A, B, C, A, B], Nodes(DevicePlacement.Place("round-robin", 5, [A, B, C])));
        Assert.Equal([A, A, B, B, C], Nodes(DevicePlacement.Place("packed", 5, [A, B, C])));
        Assert.Equal([C, A, C], Nodes(DevicePlacement.Place("127.0.0.1:4003, akka.tcp://ring@127.0.0.1:4001,127.0.0.1:4003", 3, [A, B, C])));
    }

    [Theory]
    [InlineData("127.0.0.1:4001", 2, "--placement names 1 nodes for 2 devices: give one per device, or round-robin / packed")]
    [InlineData("127.0.0.1:4009", 1, "--placement: '127.0.0.1:4009' is not a device member that is Up")]
    public void DevicePlacement_must_refuse_a_list_that_does_not_fit_in_one_line(string strategy, int devices, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => DevicePlacement.Place(strategy, devices, [A, B]));
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Throws<ArgumentException>(() => DevicePlacement.Place(null, 2, []));
    }

    [Fact]
    public void DevicePlacement_must_name_nodes_by_index_of_first_appearance_or_address()
    {
        var placement = new DevicePlacement([B, A, B]);

        Assert.Equal([B, A], placement.Nodes);
        Assert.Equal(B, placement.Resolve("0"));
        Assert.Equal(A, placement.Resolve("1"));
        Assert.Null(placement.Resolve("2"));
        Assert.Equal(A, placement.Resolve("127.0.0.1:4001"));
        Assert.Equal(B, placement.Resolve(B.ToString()));
        Assert.Equal([0, 2], placement.DevicesOn(B));
        Assert.Equal($"0={B}, 1={A}", placement.DescribeNodes());
    }

    [Fact]
    public void DevicePlacement_must_keep_a_device_on_its_node_while_it_lives_else_spread_over_survivors()
    {
        var placement = new DevicePlacement([A, B, C, A]);

        Assert.Equal(B, placement.SurvivorFor(1, new HashSet<Address>()));
        Assert.Equal(C, placement.SurvivorFor(1, new HashSet<Address> { B }));
        Assert.Equal(A, placement.SurvivorFor(0, new HashSet<Address> { B }));
        Assert.Equal(B, placement.SurvivorFor(3, new HashSet<Address> { A, C }));
        Assert.Null(placement.SurvivorFor(2, new HashSet<Address> { A, B, C }));

        var moved = placement.Moved(1, C);
        Assert.Equal([A, C, C, A], Nodes(moved));
        Assert.Equal([A, B, C, A], Nodes(placement));

        // Indices name the nodes of the original placement even after a move.
        Assert.Equal(B, moved.Resolve("1"));
    }

    private static Address[] Nodes(DevicePlacement placement) => Enumerable.Range(0, placement.Devices).Select(r => placement[r]).ToArray();
}
