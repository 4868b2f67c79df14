using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace RingActors.Host.Tests.Cluster;

/// <summary>
/// What a user sees of <c>ringactors node</c>: one ready line, a seed that never answers, and Akka's errors as one
/// line each on the console with the detail in <c>--log</c>.
/// </summary>
[Collection(MultiProcessCollection.Name)]
[Trait("Category", "MultiProcess")]
public partial class NodeOperationsSpec(ITestOutputHelper output)
{
    /// <summary>Generous: a node process on the shared 2-core machine takes seconds to start, more while others build.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>The join timeout the specs give: short, so a failing join ends quickly.</summary>
    private const int JoinSeconds = 3;

    [Fact]
    public async Task Node_must_print_one_ready_line_with_its_address_and_role()
    {
        var port = NodeProcess.FreePort();
        var seedAddress = $"akka.tcp://ring@127.0.0.1:{port}";
        using var seed = NodeProcess.Start("node", "--role", "device", "--port", $"{port}", "--seed", seedAddress);
        using var coordinator = NodeProcess.Start("node", "--role", "coordinator", "--seed", seedAddress);
        try
        {
            await Task.WhenAll(seed.Up, coordinator.Up).WaitAsync(Timeout);
            var coordinatorAddress = await coordinator.Up;

            // Counted after the coordinator joined and both left: a line repeated on a membership change would show.
            seed.Signal("TERM");
            coordinator.Signal("TERM");
            var exitCodes = await Task.WhenAll(seed.WaitForExitAsync(Timeout), coordinator.WaitForExitAsync(Timeout));
            Assert.Equal([0, 0], exitCodes);

            Assert.Equal($"node {seedAddress} is Up, role device", Assert.Single(seed.Lines, line => line.Contains(" is Up", StringComparison.Ordinal)));
            Assert.Matches(@"^akka\.tcp://ring@127\.0\.0\.1:\d+$", coordinatorAddress);
            Assert.NotEqual(seedAddress, coordinatorAddress);
            Assert.Equal($"node {coordinatorAddress} is Up, role coordinator", Assert.Single(coordinator.Lines, line => line.Contains(" is Up", StringComparison.Ordinal)));
        }
        finally
        {
            output.WriteLine($"--- seed ---\n{seed.Output}\n--- coordinator ---\n{coordinator.Output}");
        }
    }

    [Fact]
    public async Task Node_must_end_with_one_line_and_exit_code_1_when_no_seed_answers_within_the_join_timeout()
    {
        var seed = $"akka.tcp://ring@127.0.0.1:{NodeProcess.FreePort()}";
        var watch = Stopwatch.StartNew();
        using var node = NodeProcess.Start("node", "--role", "device", "--seed", seed, "--join-timeout", $"{JoinSeconds}");

        var exitCode = await node.WaitForExitAsync(Timeout);
        output.WriteLine($"exited {exitCode} after {watch.Elapsed.TotalSeconds:0.0} s:\n{node.Output}");

        Assert.Equal(1, exitCode);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(JoinSeconds), $"gave up after {watch.Elapsed.TotalSeconds:0.0} s, before the {JoinSeconds} s it was given");
        var lines = node.Lines;
        Assert.Equal(
            $"ringactors: error: cannot join the cluster: no seed answered within {JoinSeconds} s ({seed}); start a seed node there first, or wait longer with --join-timeout",
            lines[^1]);
        Assert.Single(lines, line => line.StartsWith("ringactors: error:", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, line => line.Contains(" is Up", StringComparison.Ordinal));
        AssertOneLineEach(lines);
    }

    [Fact]
    public async Task Node_must_print_an_Akka_error_as_one_line_and_write_its_stack_trace_to_the_log_file()
    {
        // A "seed" that greets every connection with a frame header announcing 2 GiB: Akka's frame decoder fails and
        // logs an error with the exception; the node then gives up joining.
        using var garbage = new TcpListener(IPAddress.Loopback, 0);
        garbage.Start();
        using var stop = new CancellationTokenSource();
        var answering = AnswerWithGarbage(garbage, stop.Token);
        var seed = $"akka.tcp://ring@127.0.0.1:{((IPEndPoint)garbage.LocalEndpoint).Port}";
        var log = Path.Combine(Path.GetTempPath(), $"ringactors-node-{Guid.NewGuid():N}.log");
        try
        {
            using var node = NodeProcess.Start("node", "--role", "device", "--seed", seed, "--join-timeout", $"{JoinSeconds}", "--log", log);
            var exitCode = await node.WaitForExitAsync(Timeout);
            output.WriteLine($"--- console ---\n{node.Output}");

            Assert.Equal(1, exitCode);
            var lines = node.Lines;
            AssertOneLineEach(lines);
            var error = Assert.Single(lines, line => line.Contains("TooLongFrameException", StringComparison.Ordinal));
            Assert.Matches(@"^\[ERROR \d\d:\d\d:\d\dZ \w+\] .+ \(TooLongFrameException: Adjusted frame length exceeds \d+: \d+ - discarded\)$", error);

            var detail = await File.ReadAllTextAsync(log);
            output.WriteLine($"--- {log} ---\n{detail}");
            Assert.Contains("Cause: DotNetty.Codecs.TooLongFrameException: Adjusted frame length exceeds", detail, StringComparison.Ordinal);
            Assert.Matches(@"\n\s+at DotNetty\.Codecs\.LengthFieldBasedFrameDecoder\.", detail);
        }
        finally
        {
            await stop.CancelAsync();
            garbage.Stop();
            await answering;
            File.Delete(log);
        }
    }

    /// <summary>
    /// Every line is a whole message: the ready line, a node's own lines, Akka's one-line events, or the final error;
    /// none is a stack frame or the continuation of a multi-line event.
    /// </summary>
    private static void AssertOneLineEach(IReadOnlyList<string> lines)
    {
        Assert.NotEmpty(lines);
        Assert.All(lines, line =>
        {
            Assert.Matches(@"^(\[(DEBUG|INFO|WARNING|ERROR) \d\d:\d\d:\d\dZ( \S+)?\] |ringactors: error: |node )", line);
            Assert.DoesNotMatch(StackFrame(), line);
        });
    }

    /// <summary>A .NET stack frame anywhere in a line: "at Namespace.Type.Method(".</summary>
    [GeneratedRegex(@"(^|\s)at [\w.`<>\[\],+]+\(")]
    private static partial Regex StackFrame();

    private static async Task AnswerWithGarbage(TcpListener listener, CancellationToken cancel)
    {
        // Akka's length field is little-endian: 0x7fffffff bytes to follow.
        byte[] header = [0xff, 0xff, 0xff, 0x7f, .. "GARBAGE"u8];
        try
        {
            while (!cancel.IsCancellationRequested)
            {
                using var client = await listener.AcceptTcpClientAsync(cancel);
                try
                {
                    await client.GetStream().WriteAsync(header, cancel);
                }
                catch (IOException)
                {
                    // The node closed the connection first: it has seen enough.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        catch (SocketException)
        {
            // Stopped while accepting.
        }
    }
}
