using System.Net;
using System.Net.Sockets;
using Switchman.Core.Configuration;
using Switchman.DemoBackend;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.FunctionalTests;

/// <summary>Backends die or stop answering while clients send requests: clients must not notice.</summary>
public class FailoverTests(ITestOutputHelper output)
{
    /// <summary>Load runs stop on their own after a fixed count past the fault; the duration is only a safety bound.</summary>
    private static readonly LoadOptions EightClients = new()
    {
        Concurrency = 8,
        MaxDuration = TimeSpan.FromSeconds(60),
        MaxRequests = 100_000,
    };

    private static readonly TimeSpan LoadBarrierTimeout = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task BackendProcessKilled_UnderLoad_NoGetFails_AndMetricsCountRetries()
    {
        await using var a = await DemoBackendProcess.StartAsync("a");
        await using var b = await DemoBackendProcess.StartAsync("b");
        await using var c = await DemoBackendProcess.StartAsync("c");
        var backend = TestConfig.Backend(("a", a.Address), ("b", b.Address), ("c", c.Address)) with { Health = TestConfig.FastHealth };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        var url = node.FrontendUrl();

        await using var load = LoadGenerator.Start(EightClients, i => new HttpRequestMessage(HttpMethod.Get, new Uri(url, $"/items/{i}")));
        await load.WaitForCompletedAsync(300, LoadBarrierTimeout);
        await b.KillAndWaitAsync();
        await load.WaitForCompletedAsync(load.Completed + 1_000, LoadBarrierTimeout);
        var result = await load.StopAsync();

        output.WriteLine(result.ToString());
        Assert.Equal(0, result.Failed);
        Assert.True(result.CountFrom("b") > 0, "b served requests before it was killed");
        Assert.True(result.CountFrom("a") > 0 && result.CountFrom("c") > 0);
        var metrics = await node.MetricsAsync();
        Assert.True(PrometheusText.Sum(metrics, "switchman_proxy_retries_total", ("server", "b")) > 0, "retries off the killed server are counted");
        Assert.True(PrometheusText.Sum(metrics, "switchman_server_failures_total", ("server", "b")) > 0, "the killed server's failures are counted");
        await Await.UntilAsync(async () => (await node.ServerStatusAsync("api", "b")).Health == "down", TimeSpan.FromSeconds(10), "b marked down by health checks");
    }

    [Fact]
    public async Task ListenerClosedAbruptly_UnderLoad_NoGetFails()
    {
        await using var a = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "a" }, CancellationToken.None);
        await using var b = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "b" }, CancellationToken.None);
        await using var c = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "c" }, CancellationToken.None);
        var backend = TestConfig.Backend(("a", a.BaseAddress.Authority), ("b", b.BaseAddress.Authority), ("c", c.BaseAddress.Authority))
            with { Health = TestConfig.FastHealth, Passive = new PassiveHealthConfig { ConsecutiveFailures = 3, EjectFor = TimeSpan.FromSeconds(30) } };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        var url = node.FrontendUrl();

        await using var load = LoadGenerator.Start(EightClients, i => new HttpRequestMessage(HttpMethod.Get, new Uri(url, $"/items/{i}")));
        await load.WaitForCompletedAsync(300, LoadBarrierTimeout);
        await c.AbortAsync();
        await load.WaitForCompletedAsync(load.Completed + 1_000, LoadBarrierTimeout);
        var result = await load.StopAsync();

        output.WriteLine(result.ToString());
        Assert.Equal(0, result.Failed);
        Assert.True(a.RequestsServed > 0 && b.RequestsServed > 0);
    }

    [Fact]
    public async Task PostToServerRefusingConnections_IsRedispatched_AndTheServerIsThenAvoided()
    {
        await using var live = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "live" }, CancellationToken.None);
        var refusing = ClosedPortAddress();
        // No health checks: only the refused connect itself tells that the server is gone.
        var backend = TestConfig.Backend(("dead", refusing), ("live", live.BaseAddress.Authority));
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        using var client = node.CreateFrontendClient();

        for (var i = 0; i < 40; i++)
        {
            using var response = await client.PostAsync("/orders", new StringContent($"{{\"order\":{i}}}"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(40, live.ReceivedRequests.Count(r => r.Method == "POST"));
        Assert.All(live.ReceivedRequests, r => Assert.True(r.BodyBytes > 0, "the body reached the live server"));
        var metrics = await node.MetricsAsync();
        // The first POST sent to the dead server is refused and sent on; from then on the server is suspect, and new
        // requests go to the live one without trying it (probes in the background keep failing).
        Assert.Equal(1, PrometheusText.Sum(metrics, "switchman_server_failures_total", ("server", "dead"), ("kind", "connect")));
        Assert.Equal(1, PrometheusText.Sum(metrics, "switchman_proxy_redispatches_total", ("server", "dead")));
        Assert.Equal(1, PrometheusText.Sum(metrics, "switchman_server_suspicions_total", ("server", "dead"), ("cause", "refused")));
        // And the status says so, where health alone (no checks here) would say up.
        var dead = await node.ServerStatusJsonAsync("api", "dead");
        Assert.Equal("up", dead.GetProperty("health").GetString());
        Assert.True(dead.TryGetProperty("suspect_since", out _), "a suspect server shows since when");
        Assert.False((await node.ServerStatusJsonAsync("api", "live")).TryGetProperty("suspect_since", out _));
    }

    [Fact]
    public async Task BlackHoledServer_UnderLoad_NoGetFails_BoundedByPerTryTimeout()
    {
        using var blackHole = new BlackHoleListener();
        await using var live = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "live" }, CancellationToken.None);
        var backend = TestConfig.Backend(("silent", blackHole.Address), ("live", live.BaseAddress.Authority))
            with { Timeouts = new BackendTimeouts { PerTry = TimeSpan.FromMilliseconds(300), Connect = TimeSpan.FromMilliseconds(300) } };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        var url = node.FrontendUrl();

        var result = await LoadGenerator.RunAsync(EightClients with { MaxRequests = 200 },
            i => new HttpRequestMessage(HttpMethod.Get, new Uri(url, $"/items/{i}")));

        output.WriteLine(result.ToString());
        Assert.Equal(0, result.Failed);
        Assert.True(blackHole.AcceptedConnections > 0, "the proxy did try the silent server");
        var metrics = await node.MetricsAsync();
        Assert.True(PrometheusText.Sum(metrics, "switchman_server_failures_total", ("server", "silent"), ("kind", "timeout")) > 0);
    }

    [Fact]
    public async Task BlackHoledServer_PostThatReachedIt_IsNotRetried()
    {
        using var blackHole = new BlackHoleListener();
        await using var live = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "live" }, CancellationToken.None);
        var backend = TestConfig.Backend(("silent", blackHole.Address), ("live", live.BaseAddress.Authority))
            with { Timeouts = new BackendTimeouts { PerTry = TimeSpan.FromMilliseconds(300) } };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        using var client = node.CreateFrontendClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await client.PostAsync("/orders", new StringContent("{}"));
            statuses.Add(response.StatusCode);
        }

        // Round robin alternates: the POSTs sent to the silent server may have been processed there, so they are not
        // re-sent elsewhere (that could create an order twice); the client gets 504 instead.
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.GatewayTimeout));
        Assert.Equal(2, live.ReceivedRequests.Count);
    }

    [Fact]
    public async Task RetryableStatus_IsRetriedOnAnotherServer_ClientSeesSuccess()
    {
        await using var failing = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "failing", FailStatus = 503 }, CancellationToken.None);
        await using var good = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "good" }, CancellationToken.None);
        var backend = TestConfig.Backend(("failing", failing.BaseAddress.Authority), ("good", good.BaseAddress.Authority))
            with { Retry = new RetryConfig { Retries = 2, OnStatus = ValueList.Create(502, 503, 504) } };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        using var client = node.CreateFrontendClient();

        for (var i = 0; i < 20; i++)
        {
            using var response = await client.GetAsync($"/items/{i}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("\"good\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.True(failing.RequestsServed >= 10, "the failing server was tried");
    }

    [Fact]
    public async Task PassiveChecks_ServerAnswering500_IsEjected()
    {
        await using var failing = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "failing", FailStatus = 500 }, CancellationToken.None);
        await using var good = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "good" }, CancellationToken.None);
        var backend = TestConfig.Backend(("failing", failing.BaseAddress.Authority), ("good", good.BaseAddress.Authority))
            with { Passive = new PassiveHealthConfig { ConsecutiveFailures = 3, EjectFor = TimeSpan.FromMinutes(5) } };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        using var client = node.CreateFrontendClient();

        for (var i = 0; i < 30; i++)
        {
            using var response = await client.GetAsync($"/items/{i}");
        }

        Assert.Equal(3, failing.RequestsServed);
        Assert.Equal(27, good.RequestsServed);
        Assert.NotNull((await node.ServerStatusAsync("api", "failing")).EjectedUntil);
    }

    [Fact]
    public async Task NoServerAvailable_Answers503_WithoutNamingTheBackendToTheClient_TheLogSaysWhy()
    {
        var backend = TestConfig.Backend(("a", ClosedPortAddress())) with { Health = TestConfig.FastHealth with { Initial = InitialHealth.Down } };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        using var client = node.CreateFrontendClient();

        using var response = await client.GetAsync("/x");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.StartsWith("503 Service Unavailable\nrequest id: ", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains(node.Logs.GetSnapshot(), r => r.Message.Contains("api", StringComparison.Ordinal) && r.Message.Contains("no available server", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>An address where nothing listens: connections are refused at once.</summary>
    private static string ClosedPortAddress()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket.LocalEndPoint!.ToString()!;
    }
}
