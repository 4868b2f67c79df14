using RingActors.Actors.Cluster;

namespace RingActors.Actors.Tests.Cluster;

/// <summary>A node binds loopback freely, anything else only with TLS or an explicit --insecure.</summary>
public class BindExposureSpec
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.1.2.3")]
    [InlineData("::1")]
    [InlineData("[::1]")]
    [InlineData("localhost")]
    [InlineData("LOCALHOST")]
    public void BindExposure_must_allow_loopback_without_TLS(string host)
    {
        Assert.True(BindExposure.IsLoopback(host));
        Assert.Null(BindExposure.Check(host, tls: false, insecure: false, out var refused));
        Assert.False(refused);
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("")]
    [InlineData("10.0.0.5")]
    [InlineData("node5.example")]
    public void BindExposure_must_refuse_any_other_address_without_TLS_unless_insecure(string host)
    {
        Assert.False(BindExposure.IsLoopback(host));
        var refusal = BindExposure.Check(host, tls: false, insecure: false, out var refused);
        Assert.True(refused);
        Assert.StartsWith("refusing to bind ", refusal, StringComparison.Ordinal);
        Assert.Contains("--insecure", refusal, StringComparison.Ordinal);

        var warning = BindExposure.Check(host, tls: false, insecure: true, out refused);
        Assert.False(refused);
        Assert.Contains("without TLS (--insecure)", warning, StringComparison.Ordinal);

        Assert.Null(BindExposure.Check(host, tls: true, insecure: false, out refused));
        Assert.False(refused);
    }

    [Fact]
    public void A_node_binding_every_interface_without_TLS_must_refuse_to_start()
    {
        var error = Assert.Throws<ArgumentException>(() => ClusterNode.Start(new ClusterNodeOptions { Role = ClusterRoles.Device, Host = "0.0.0.0", Port = 0 }));
        Assert.Equal(nameof(ClusterNodeOptions.AllowInsecure), error.ParamName);
        Assert.StartsWith("refusing to bind 0.0.0.0 without TLS", error.Message, StringComparison.Ordinal);
    }
}
