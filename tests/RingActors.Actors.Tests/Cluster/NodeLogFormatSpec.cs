using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using RingActors.Actors.Cluster;

namespace RingActors.Actors.Tests.Cluster;

public class NodeLogFormatSpec
{
    [Fact]
    public void ConsoleLine_must_give_level_time_class_message_and_cause_on_one_line_without_the_stack_trace()
    {
        var cause = Thrown(new InvalidOperationException("frame too long\nsecond line"));
        var line = NodeLogFormat.ConsoleLine(new Error(cause, "akka://ring/system/endpointManager", typeof(NodeLogFormatSpec), "association failed with akka.tcp://ring@127.0.0.1:4053"));

        Assert.Matches(@"^\[ERROR \d\d:\d\d:\d\dZ NodeLogFormatSpec\] association failed with akka\.tcp://ring@127\.0\.0\.1:4053 \(InvalidOperationException: frame too long second line\)$", line);
        Assert.NotNull(cause.StackTrace);
        Assert.DoesNotContain(" at ", line, StringComparison.Ordinal);
    }

    [Fact]
    public void ConsoleLine_must_drop_stack_frames_that_a_message_carries_in_its_text()
    {
        // The shape of Akka.Remote's "Tried to associate with unreachable remote address" warning.
        const string message = "Address is now gated for 5000 ms. Reason: [Association failed] Caused by: [Akka.Remote.Transport.AkkaProtocolException: The remote system explicitly disassociated (reason unknown).\n"
            + "   at Akka.Remote.Transport.AkkaProtocolTransport.Associate(Address remoteAddress, Nullable`1 refuseUid)\n"
            + "--- End of stack trace from previous location ---\n"
            + "   at Akka.Remote.EndpointWriter.AssociateAsync() in /src/EndpointWriter.cs:line 42]";
        var line = NodeLogFormat.ConsoleLine(new Warning("remoting (akka://ring)", typeof(DummyClassForStringSources), message));

        Assert.EndsWith("] Address is now gated for 5000 ms. Reason: [Association failed] Caused by: [Akka.Remote.Transport.AkkaProtocolException: The remote system explicitly disassociated (reason unknown).]", line, StringComparison.Ordinal);
        Assert.StartsWith("[WARNING ", line, StringComparison.Ordinal);
        Assert.Contains("Z remoting] ", line, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line);
    }

    [Fact]
    public void ConsoleLine_must_name_the_innermost_cause_when_the_outer_one_hides_it()
    {
        var cause = Thrown(new InvalidOperationException("association failed", new System.Net.Sockets.SocketException(111)));
        var line = NodeLogFormat.ConsoleLine(new Warning(cause, "source", typeof(string), "cannot connect"));

        Assert.EndsWith("(InvalidOperationException: association failed ← SocketException: " + cause.InnerException!.Message + ")", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Full_must_keep_the_stack_trace_and_the_actor_path()
    {
        var cause = Thrown(new InvalidOperationException("boom"));
        var full = NodeLogFormat.Full(new Error(cause, "akka://ring/user/device-1", typeof(NodeLogFormatSpec), "device failed"));

        Assert.Contains("[ERROR]", full, StringComparison.Ordinal);
        Assert.Contains("[akka://ring/user/device-1] device failed", full, StringComparison.Ordinal);
        Assert.Contains("System.InvalidOperationException: boom", full, StringComparison.Ordinal);
        Assert.Contains("   at " + typeof(NodeLogFormatSpec).FullName + "." + nameof(Thrown), full, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NodeLogger_must_append_the_full_event_to_the_log_file()
    {
        var file = Path.GetTempFileName();
        try
        {
            var config = ConfigurationFactory.ParseString($"{NodeLogger.FileKey} = \"{file.Replace("\\", "\\\\", StringComparison.Ordinal)}\"").WithFallback(NodeLogger.Config);
            var system = ActorSystem.Create("log", config);
            try
            {
                system.Log.Error(Thrown(new InvalidOperationException("device 3 lost its block")), "hand-off {0} failed", 7);
            }
            finally
            {
                // Terminating stops the logger after it has handled what was published before.
                await system.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
            }

            var written = await File.ReadAllTextAsync(file);
            Assert.Contains("hand-off 7 failed", written, StringComparison.Ordinal);
            Assert.Contains("System.InvalidOperationException: device 3 lost its block", written, StringComparison.Ordinal);
            Assert.Contains("   at " + typeof(NodeLogFormatSpec).FullName + "." + nameof(Thrown), written, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>The exception after a throw, so it has a stack trace as the ones Akka logs do.</summary>
    private static Exception Thrown(Exception error)
    {
        try
        {
            throw error;
        }
        catch (Exception caught)
        {
            return caught;
        }
    }
}
