using Microsoft.Extensions.Time.Testing;
using Switchman.Core.Configuration;
using Switchman.Proxy.Diagnostics;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Tests;

/// <summary><c>switchman_server_state</c>: maint and drain win over health; a ready server is up or down by its checks and ejections.</summary>
public sealed class ServerStateMetricTests
{
    [Theory]
    [InlineData(ServerAdminState.Ready, true, false, "up")]
    [InlineData(ServerAdminState.Ready, false, false, "down")]
    [InlineData(ServerAdminState.Ready, true, true, "down")]
    [InlineData(ServerAdminState.Drain, true, false, "drain")]
    [InlineData(ServerAdminState.Drain, false, false, "drain")]
    [InlineData(ServerAdminState.Maint, true, false, "maint")]
    [InlineData(ServerAdminState.Maint, false, true, "maint")]
    public void The_state_an_operator_reads(ServerAdminState admin, bool healthy, bool ejected, string expected)
    {
        var time = new FakeTimeProvider();
        var server = new ServerRuntime("api", new ServerConfig { Name = "a", Address = "127.0.0.1:1" }, initiallyHealthy: healthy, time) { AdminState = admin };
        var now = time.GetTimestamp();
        if (ejected)
        {
            server.Eject(now + time.TimestampFrequency);
        }
        Assert.Equal(expected, ProxyMetrics.ServerState(server, now));
    }

    [Theory]
    [InlineData(ServerAdminState.Ready, "down")]
    [InlineData(ServerAdminState.Drain, "drain")]
    [InlineData(ServerAdminState.Maint, "maint")]
    public void A_held_out_server_takes_no_request_so_a_ready_one_reads_down(ServerAdminState admin, string expected)
    {
        var time = new FakeTimeProvider();
        var server = new ServerRuntime("api", new ServerConfig { Name = "a", Address = "127.0.0.1:1" }, initiallyHealthy: true, time) { AdminState = admin };
        server.HoldOut("service api is starting on this node");

        Assert.Equal(expected, ProxyMetrics.ServerState(server, time.GetTimestamp()));
        Assert.False(server.IsAvailable(time.GetTimestamp()));
    }
}
