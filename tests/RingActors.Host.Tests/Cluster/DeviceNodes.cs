using Xunit.Abstractions;

namespace RingActors.Host.Tests.Cluster;

/// <summary>
/// <c>ringactors node --role device</c> processes on 127.0.0.1, the first of them the seed; disposing kills every one
/// and writes what each printed to the test's output.
/// </summary>
internal sealed class DeviceNodes(string seed, NodeProcess[] nodes, ITestOutputHelper output) : IDisposable
{
    /// <summary>The seed's address, to pass as <c>--seed</c>.</summary>
    public string Seed { get; } = seed;

    /// <summary>The node processes, in start order (the seed first).</summary>
    public IReadOnlyList<NodeProcess> Nodes => nodes;

    /// <summary>
    /// Starts <paramref name="count"/> device nodes and waits until each has printed that it is Up; node i also gets
    /// <paramref name="extra"/>(i) (TLS options: then <paramref name="protocol"/> is akka.ssl.tcp).
    /// </summary>
    public static async Task<DeviceNodes> StartAsync(int count, TimeSpan timeout, ITestOutputHelper output, Func<int, string[]>? extra = null, string protocol = "akka.tcp")
    {
        var port = NodeProcess.FreePort();
        var seed = $"{protocol}://ring@127.0.0.1:{port}";
        var nodes = new NodeProcess[count];
        var cluster = new DeviceNodes(seed, nodes, output);
        try
        {
            for (var i = 0; i < count; i++)
            {
                string[] own = i == 0 ? ["node", "--role", "device", "--port", $"{port}", "--seed", seed] : ["node", "--role", "device", "--seed", seed];
                nodes[i] = NodeProcess.Start([.. own, .. extra?.Invoke(i) ?? []]);
            }

            await Task.WhenAll(nodes.Select(node => node.Up)).WaitAsync(timeout);
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var node in nodes.Where(node => node is not null))
        {
            output.WriteLine($"--- node {node.Id} ---\n{node.Output}");
            node.Dispose();
        }
    }
}
