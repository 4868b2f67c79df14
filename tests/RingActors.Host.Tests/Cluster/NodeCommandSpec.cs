namespace RingActors.Host.Tests.Cluster;

public class NodeCommandSpec
{
    [Theory]
    [InlineData("--role is required: device or coordinator", "node")]
    [InlineData("--role must be device or coordinator, got 'gpu'", "node", "--role", "gpu")]
    [InlineData("--port must be in [0, 65535], got 65536", "node", "--role", "device", "--port", "65536")]
    [InlineData("--port must be an integer in [0, 65535], got 'abc'", "node", "--role", "device", "--port", "abc")]
    [InlineData("--seed 'ring@127.0.0.1:4053' is not an address like akka.tcp://ring@127.0.0.1:4053", "node", "--role", "device", "--seed", "ring@127.0.0.1:4053")]
    [InlineData("--seed 'akka.tcp://other@127.0.0.1:4053' names actor system 'other', ring nodes are 'ring'", "node", "--role", "device", "--seed", "akka.tcp://other@127.0.0.1:4053")]
    [InlineData("--join-timeout must be in [1, 86400] seconds, got 0", "node", "--role", "device", "--join-timeout", "0")]
    [InlineData("--join-timeout must be in [1, 86400] seconds, got 86401", "node", "--role", "device", "--join-timeout", "86401")]
    [InlineData("--join-timeout must be a whole number of seconds in [1, 86400], got '-5'", "node", "--role", "device", "--join-timeout", "-5")]
    [InlineData("--join-timeout must be a whole number of seconds in [1, 86400], got '2.5'", "node", "--role", "device", "--join-timeout", "2.5")]
    [InlineData("--log file '/no/such/dir/node.log' is in a directory that does not exist", "node", "--role", "device", "--log", "/no/such/dir/node.log")]
    [InlineData("--config file '/no/such/cluster.conf' does not exist", "node", "--role", "device", "--config", "/no/such/cluster.conf")]
    [InlineData("--tls-password is not accepted: the command line is visible to every user (ps); use --tls-password-file FILE or $RINGACTORS_TLS_PASSWORD", "node", "--role", "device", "--tls-password", "secret")]
    [InlineData("--tls-password-file, --tls-ca and --tls-trust need --tls-cert", "node", "--role", "device", "--tls-ca", "/no/such/ca.crt")]
    [InlineData("--tls-password-file: TLS password file '/no/such/password' does not exist", "node", "--role", "device", "--tls-cert", "/no/such/ring.pfx", "--tls-password-file", "/no/such/password")]
    [InlineData("refusing to bind 0.0.0.0 without TLS: anyone who reaches the port could join and send orders; give --tls-cert with --tls-ca or --tls-trust (docs/security.md), bind 127.0.0.1, or accept the risk with --insecure", "node", "--role", "device", "--host", "0.0.0.0")]
    [InlineData("--tls-cert: TLS certificate '/no/such/ring.pfx' does not exist", "node", "--role", "device", "--tls-cert", "/no/such/ring.pfx")]
    [InlineData("with --tls-cert every seed must be akka.ssl.tcp://…, got 'akka.tcp://ring@127.0.0.1:4053'", "node", "--role", "device", "--tls-cert", "/no/such/ring.pfx", "--seed", "akka.tcp://ring@127.0.0.1:4053")]
    public void Node_must_refuse_bad_input_with_one_line_and_exit_code_2(string expected, params string[] args)
    {
        var (exitCode, output, errors) = CommandLine.Run(args);
        Assert.Equal(2, exitCode);
        Assert.Equal(string.Empty, output);
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("ringactors: error: " + expected, line.TrimEnd('\r'));
    }

    [Fact]
    public void Node_must_refuse_a_port_already_in_use_with_one_line()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;

        var (exitCode, _, errors) = CommandLine.Run("node", "--role", "device", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(2, exitCode);
        Assert.Equal($"ringactors: error: port {port} on 127.0.0.1 is already in use", Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }
}
