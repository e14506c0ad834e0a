using System.Net;
using System.Text.Json;
using Switchman.Core.Configuration;
using Switchman.DemoBackend;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.FunctionalTests;

/// <summary>The admin listener as an operator or a monitoring system sees it.</summary>
public class AdminTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Readyz_NotReadyUntilFirstProbeRoundCompletes()
    {
        using var silent = new BlackHoleListener();
        await using var live = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "live" }, CancellationToken.None);
        var backend = TestConfig.Backend(("silent", silent.Address), ("live", live.BaseAddress.Authority))
            with { Health = TestConfig.FastHealth with { Timeout = TimeSpan.FromSeconds(2), Interval = TimeSpan.FromSeconds(5) } };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);

        // The probe of the silent server is still waiting for its timeout: the first round is not complete.
        using var notYet = await node.Admin.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notYet.StatusCode);
        Assert.Contains("health checks", await notYet.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await node.Admin.GetAsync("/healthz")).StatusCode);

        await Await.UntilAsync(async () => (await node.Admin.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(15), "readiness once the silent server's probe timed out");
        var silentStatus = await node.ServerStatusAsync("api", "silent");
        Assert.False(silentStatus.LastCheck!.Success);
        Assert.Contains("timed out", silentStatus.LastCheck.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthChecks_ServerStopsAnsweringHealth_GoesDownAfterFall_BackAfterRise()
    {
        await using var a = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "a" }, CancellationToken.None);
        await using var b = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "b" }, CancellationToken.None);
        var backend = TestConfig.Backend(("a", a.BaseAddress.Authority), ("b", b.BaseAddress.Authority)) with { Health = TestConfig.FastHealth };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        var changes = new List<Proxy.ServerHealthChange>();
        node.DataPlane.HealthChanged += change => { lock (changes) { changes.Add(change); } };
        using var client = node.CreateFrontendClient();

        a.Behavior = a.Behavior with { HealthFailing = true };
        await Await.UntilAsync(async () => (await node.ServerStatusAsync("api", "a")).Health == "down", TimeSpan.FromSeconds(10), "a marked down");
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("b", BalancingTests.ServerOf(await client.GetStringAsync("/x")));
        }
        var status = await node.ServerStatusAsync("api", "a");
        Assert.False(status.Available);
        Assert.Equal("HTTP 503, expected 200-399", status.LastCheck!.Detail);

        a.Behavior = a.Behavior with { HealthFailing = false };
        await Await.UntilAsync(async () => (await node.ServerStatusAsync("api", "a")).Health == "up", TimeSpan.FromSeconds(10), "a back up");
        lock (changes)
        {
            Assert.Equal([("a", false), ("a", true)], changes.Select(c => (c.Server, c.Up)));
        }
    }

    [Fact]
    public async Task Status_And_Metrics_DescribeEveryServer()
    {
        await using var a = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "a" }, CancellationToken.None);
        var backend = TestConfig.Backend(("a", a.BaseAddress.Authority), ("spare", "127.0.0.1:9")) with
        {
            Health = TestConfig.FastHealth,
            Servers = ValueList.Create(
                new ServerConfig { Name = "a", Address = a.BaseAddress.Authority, Weight = 7 },
                new ServerConfig { Name = "spare", Address = a.BaseAddress.Authority, Backup = true, State = ServerAdminState.Maint }),
        };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        using var client = node.CreateFrontendClient();
        await Await.UntilAsync(() => node.DataPlane.IsReady, TimeSpan.FromSeconds(10), "first health round");
        for (var i = 0; i < 5; i++)
        {
            (await client.GetAsync("/x")).EnsureSuccessStatusCode();
        }
        (await client.GetAsync("/x?status=404")).Dispose();

        var json = JsonDocument.Parse(await node.Admin.GetStringAsync("/api/v1/status")).RootElement;
        Assert.True(json.GetProperty("ready").GetBoolean());
        var servers = json.GetProperty("backends")[0].GetProperty("servers");
        Assert.Equal("a", servers[0].GetProperty("name").GetString());
        Assert.Equal("ready", servers[0].GetProperty("state").GetString());
        Assert.Equal("up", servers[0].GetProperty("health").GetString());
        Assert.Equal(7, servers[0].GetProperty("weight").GetInt32());
        Assert.Equal(0, servers[0].GetProperty("in_flight").GetInt32());
        Assert.Equal(6, servers[0].GetProperty("requests_total").GetInt64());
        Assert.True(servers[0].GetProperty("last_check").GetProperty("success").GetBoolean());
        Assert.True(servers[0].GetProperty("last_check").TryGetProperty("time", out _));
        Assert.Equal("maint", servers[1].GetProperty("state").GetString());
        Assert.True(servers[1].GetProperty("backup").GetBoolean());

        var metrics = await node.MetricsAsync();
        Assert.Equal(5, PrometheusText.Sum(metrics, "switchman_proxy_requests_total", ("frontend", "web"), ("backend", "api"), ("server", "a"), ("status_class", "2xx")));
        Assert.Equal(1, PrometheusText.Sum(metrics, "switchman_proxy_requests_total", ("server", "a"), ("status_class", "4xx")));
        Assert.Equal(6, PrometheusText.Sum(metrics, "switchman_proxy_request_duration_seconds_count", ("frontend", "web")));
        Assert.Contains("switchman_server_active_requests{", metrics, StringComparison.Ordinal);
    }
}
