using Akka.Configuration;
using RingActors.Actors.Cluster;
using RingActors.Actors.Configuration;
using RingActors.Actors.Serialization;

namespace RingActors.Actors.Tests.Cluster;

public class ClusterConfigSpec
{
    [Fact]
    public void BuildConfig_must_default_to_a_loopback_cluster_node_with_the_split_brain_resolver()
    {
        var config = ClusterNode.BuildConfig(new ClusterNodeOptions { Role = ClusterRoles.Device });

        Assert.Equal("cluster", config.GetString("akka.actor.provider"));
        Assert.Equal(["device"], config.GetStringList("akka.cluster.roles"));
        Assert.Equal("127.0.0.1", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(0, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal("Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster", config.GetString("akka.cluster.downing-provider-class"));
        Assert.Equal("keep-majority", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Equal(1024 * 1024, TransportSettings.Create(config).MaxMessageBytes);
        Assert.Equal(1024 * 1024 + (64 * 1024), config.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size"));
        Assert.Equal("ForkJoinDispatcher", config.GetString("ring-actors.compute-dispatcher.type"));
        Assert.Equal("ring-messages", config.GetString("akka.actor.serialization-bindings.\"RingActors.Actors.Serialization.BlockChunk, RingActors.Actors\""));
    }

    [Fact]
    public void BuildConfig_must_let_the_options_win_over_the_config_file()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "akka.remote.dot-netty.tcp { hostname = 10.1.2.3, port = 4053 }\nakka.cluster.roles = [coordinator]");
            var config = ClusterNode.BuildConfig(new ClusterNodeOptions
            {
                Role = ClusterRoles.Device,
                Port = 5000,
                ConfigFile = file,
                Seeds = ["akka.tcp://ring@127.0.0.1:4053"],
            });

            Assert.Equal("10.1.2.3", config.GetString("akka.remote.dot-netty.tcp.hostname"));
            Assert.Equal(5000, config.GetInt("akka.remote.dot-netty.tcp.port"));
            Assert.Equal(["device"], config.GetStringList("akka.cluster.roles"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void BuildConfig_must_register_the_node_logger_give_up_joining_after_30_s_and_take_the_options_join_timeout_and_log_file()
    {
        var defaults = ClusterNode.BuildConfig(new ClusterNodeOptions { Role = ClusterRoles.Device });
        Assert.Equal(["RingActors.Actors.Cluster.NodeLogger, RingActors.Actors"], defaults.GetStringList("akka.loggers"));
        Assert.Equal("RingActors.Actors.Cluster.NodeStdoutLogger, RingActors.Actors", defaults.GetString("akka.stdout-logger-class"));
        Assert.Equal(TimeSpan.FromSeconds(30), defaults.GetTimeSpan("akka.cluster.shutdown-after-unsuccessful-join-seed-nodes"));
        Assert.Equal(string.Empty, defaults.GetString(NodeLogger.FileKey));

        var log = Path.Combine(Path.GetTempPath(), "node.log");
        var config = ClusterNode.BuildConfig(new ClusterNodeOptions { Role = ClusterRoles.Device, JoinTimeout = TimeSpan.FromSeconds(7), LogFile = log });
        Assert.Equal(TimeSpan.FromSeconds(7), config.GetTimeSpan("akka.cluster.shutdown-after-unsuccessful-join-seed-nodes"));
        Assert.Equal(log, config.GetString(NodeLogger.FileKey));
    }

    [Fact]
    public void BuildConfig_must_let_a_config_file_choose_another_logger()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "akka.loggers = [\"Akka.Event.DefaultLogger\"]");
            var config = ClusterNode.BuildConfig(new ClusterNodeOptions { Role = ClusterRoles.Device, ConfigFile = file });
            Assert.Equal(["Akka.Event.DefaultLogger"], config.GetStringList("akka.loggers"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(86401)]
    public void Options_must_refuse_a_join_timeout_outside_a_second_to_a_day(int seconds)
    {
        var error = Assert.Throws<ArgumentException>(() => new ClusterNodeOptions { Role = ClusterRoles.Device, JoinTimeout = TimeSpan.FromSeconds(seconds) }.Validate());
        Assert.Equal(nameof(ClusterNodeOptions.JoinTimeout), error.ParamName);
        Assert.StartsWith($"join-timeout must be in [1, 86400] seconds, got {seconds}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BuildConfig_must_refuse_a_frame_size_that_does_not_fit_the_message_cap()
    {
        var error = Assert.Throws<ArgumentException>(() => ClusterNode.BuildConfig(new ClusterNodeOptions
        {
            Role = ClusterRoles.Device,
            Config = ConfigurationFactory.ParseString("ring-actors.transport.max-message-bytes = 2 MiB"),
        }));
        Assert.Contains("maximum-frame-size (1114112 bytes) must be ≥ ring-actors.transport.max-message-bytes (2097152) + 16384", error.Message);
    }

    [Theory]
    [InlineData("role must be device or coordinator, got 'gpu'", "gpu", 0, "akka.tcp://ring@127.0.0.1:4053")]
    [InlineData("port must be in [0, 65535], got 70000", "device", 70000, "akka.tcp://ring@127.0.0.1:4053")]
    [InlineData("seed 'ring@127.0.0.1:4053' is not an address", "device", 0, "ring@127.0.0.1:4053")]
    [InlineData("uses protocol 'akka.udp'", "device", 0, "akka.udp://ring@127.0.0.1:4053")]
    [InlineData("names actor system 'other', ring nodes are 'ring'", "device", 0, "akka.tcp://other@127.0.0.1:4053")]
    [InlineData("needs a host and a port in [1, 65535]", "device", 0, "akka.tcp://ring@127.0.0.1:0")]
    [InlineData("must be an address only (no actor path)", "device", 0, "akka.tcp://ring@127.0.0.1:4053/user/x")]
    public void ClusterNodeOptions_must_refuse_bad_input_naming_it(string expected, string role, int port, string seed)
    {
        var error = Assert.Throws<ArgumentException>(() => new ClusterNodeOptions { Role = role, Port = port, Seeds = [seed] }.Validate());
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void The_deployment_files_in_hocon_must_parse_and_agree_with_the_defaults()
    {
        var cluster = ClusterNode.BuildConfig(new ClusterNodeOptions { Role = ClusterRoles.Device, ConfigFile = RepositoryFile("hocon", "cluster.conf") });
        Assert.Equal(TransportSettings.Default, TransportSettings.Create(cluster));
        Assert.Equal(ClusterDefaults.Config.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size"), cluster.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size"));
        Assert.Equal("5s", cluster.GetString("akka.cluster.split-brain-resolver.stable-after"));

        var tls = ConfigurationFactory.ParseString(File.ReadAllText(RepositoryFile("hocon", "tls.conf")));
        Assert.True(tls.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.False(tls.GetBoolean("akka.remote.dot-netty.tcp.ssl.suppress-validation"));
        Assert.Equal("node.pfx", tls.GetString("akka.remote.dot-netty.tcp.ssl.certificate.path"));
        Assert.Equal(new[] { "ca.crt" }, tls.GetStringList("ring-actors.tls.ca-certificates"));
    }

    private static string RepositoryFile(params string[] parts)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "RingActors.sln")))
        {
            directory = directory.Parent;
        }

        Assert.NotNull(directory);
        return Path.Combine([directory.FullName, .. parts]);
    }
}
