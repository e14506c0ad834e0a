using System.Net;
using Switchman.Core.Configuration;
using Switchman.DemoBackend;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.FunctionalTests;

/// <summary>Where requests go, seen from real backends behind a real node.</summary>
public class BalancingTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly List<DemoBackendServer> _servers = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }

    private async Task<DemoBackendServer> StartBackendAsync(string name, TimeSpan delay = default)
    {
        var server = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = name, Delay = delay }, CancellationToken.None);
        _servers.Add(server);
        return server;
    }

    private async Task<BackendConfig> BackendOfAsync(BalanceAlgorithm balance, params (string Name, int Weight, bool Backup)[] servers)
    {
        var list = new List<ServerConfig>();
        foreach (var (name, weight, backup) in servers)
        {
            var server = await StartBackendAsync(name);
            list.Add(new ServerConfig { Name = name, Address = server.BaseAddress.Authority, Weight = weight, Backup = backup });
        }
        return new BackendConfig { Name = "api", Balance = balance, Servers = new ValueList<ServerConfig>(list) };
    }

    [Theory]
    [InlineData(BalanceAlgorithm.RoundRobin, 0)]
    [InlineData(BalanceAlgorithm.Random, 20)]
    public async Task Sequential_Weights31_ShareFollowsWeights(BalanceAlgorithm balance, int tolerance)
    {
        var backend = await BackendOfAsync(balance, ("a", 3, false), ("b", 1, false));
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        using var client = node.CreateFrontendClient();

        for (var i = 0; i < 200; i++)
        {
            (await client.GetAsync($"/items/{i}")).EnsureSuccessStatusCode();
        }

        Assert.Equal(150, _servers[0].RequestsServed, tolerance: tolerance);
        Assert.Equal(200, _servers[0].RequestsServed + _servers[1].RequestsServed);
    }

    [Fact]
    public async Task LeastConn_Weights31_UnderConcurrency_InFlightFollowsWeights()
    {
        var a = await StartBackendAsync("a", TimeSpan.FromMilliseconds(40));
        var b = await StartBackendAsync("b", TimeSpan.FromMilliseconds(40));
        var backend = new BackendConfig
        {
            Name = "api",
            Balance = BalanceAlgorithm.LeastConn,
            Servers = ValueList.Create(
                new ServerConfig { Name = "a", Address = a.BaseAddress.Authority, Weight = 3 },
                new ServerConfig { Name = "b", Address = b.BaseAddress.Authority, Weight = 1 }),
        };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        var url = node.FrontendUrl();

        // Eight requests always in flight, equally slow servers: leastconn keeps about 6 on a and 2 on b.
        var result = await LoadGenerator.RunAsync(new LoadOptions { Concurrency = 8, MaxDuration = TimeSpan.FromSeconds(2), MaxRequests = 2_000 },
            i => new HttpRequestMessage(HttpMethod.Get, new Uri(url, $"/items/{i}")));

        Assert.Equal(0, result.Failed);
        var share = (double)result.CountFrom("a") / result.Total;
        Assert.InRange(share, 0.65, 0.85);
    }

    [Fact]
    public async Task LeastConn_SlowServer_GetsFewerConcurrentRequests()
    {
        var slow = await StartBackendAsync("slow", TimeSpan.FromMilliseconds(200));
        var fast = await StartBackendAsync("fast");
        var backend = new BackendConfig
        {
            Name = "api",
            Balance = BalanceAlgorithm.LeastConn,
            Servers = ValueList.Create(
                new ServerConfig { Name = "slow", Address = slow.BaseAddress.Authority },
                new ServerConfig { Name = "fast", Address = fast.BaseAddress.Authority }),
        };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        var url = node.FrontendUrl();

        var result = await LoadGenerator.RunAsync(new LoadOptions { Concurrency = 8, MaxDuration = TimeSpan.FromSeconds(2), MaxRequests = 5_000 },
            i => new HttpRequestMessage(HttpMethod.Get, new Uri(url, $"/items/{i}")));

        Assert.Equal(0, result.Failed);
        Assert.True(result.CountFrom("fast") > 5 * result.CountFrom("slow"), result.ToString());
    }

    [Fact]
    public async Task Uri_SamePath_SameServer()
    {
        var backend = await BackendOfAsync(BalanceAlgorithm.Uri, ("a", 1, false), ("b", 1, false), ("c", 1, false));
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        using var client = node.CreateFrontendClient();

        var owners = new Dictionary<string, string>();
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 30; i++)
            {
                var body = await client.GetStringAsync($"/images/{i}");
                var server = ServerOf(body);
                Assert.Equal(owners.GetValueOrDefault($"/images/{i}", server), server);
                owners[$"/images/{i}"] = server;
            }
        }
        Assert.Equal(3, owners.Values.Distinct().Count());
    }

    [Fact]
    public async Task Source_SameClientAddress_SameServer_OtherClientsSpread()
    {
        var backend = await BackendOfAsync(BalanceAlgorithm.Source, ("a", 1, false), ("b", 1, false), ("c", 1, false));
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        var url = node.FrontendUrl();

        var serversSeen = new HashSet<string>();
        for (var client = 2; client < 40; client++)
        {
            // Every 127.x address is loopback on Linux: each client connects from its own source address.
            using var http = ClientFrom(IPAddress.Parse($"127.0.0.{client}"));
            var first = ServerOf(await http.GetStringAsync(new Uri(url, "/a")));
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(first, ServerOf(await http.GetStringAsync(new Uri(url, $"/other/{i}"))));
            }
            serversSeen.Add(first);
        }
        Assert.Equal(3, serversSeen.Count);
    }

    [Fact]
    public async Task Backup_OnlyUsedWhenNoPrimaryIsUp()
    {
        var backend = await BackendOfAsync(BalanceAlgorithm.RoundRobin, ("a", 1, false), ("b", 1, false), ("spare", 1, true));
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        using var client = node.CreateFrontendClient();

        for (var i = 0; i < 20; i++)
        {
            (await client.GetAsync("/x")).EnsureSuccessStatusCode();
        }
        Assert.Equal(0, _servers[2].RequestsServed);

        await node.Host.ConfigStore.SetServerStateAsync("api", "a", ServerAdminState.Maint, "test", CancellationToken.None);
        await node.Host.ConfigStore.SetServerStateAsync("api", "b", ServerAdminState.Maint, "test", CancellationToken.None);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("spare", ServerOf(await client.GetStringAsync("/x")));
        }

        await node.Host.ConfigStore.SetServerStateAsync("api", "b", ServerAdminState.Ready, "test", CancellationToken.None);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("b", ServerOf(await client.GetStringAsync("/x")));
        }
    }

    [Fact]
    public async Task Drain_InFlightRequestFinishes_NoNewRequests_MaintTakesNothing()
    {
        var a = await StartBackendAsync("a");
        var b = await StartBackendAsync("b");
        var backend = TestConfig.Backend(("a", a.BaseAddress.Authority), ("b", b.BaseAddress.Authority));
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        using var client = node.CreateFrontendClient();

        // Smooth round robin starts with a: the first, slow request is in flight on a.
        var slow = client.GetStringAsync("/report?delay=1500ms");
        await Await.UntilAsync(() => a.InFlight == 1, TimeSpan.FromSeconds(10), "the slow request to reach a");
        Assert.True((await node.Host.ConfigStore.SetServerStateAsync("api", "a", ServerAdminState.Drain, "test", CancellationToken.None)).Accepted);

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("b", ServerOf(await client.GetStringAsync($"/items/{i}")));
        }
        Assert.Equal(1, node.DataPlane.InFlight("api", "a"));
        Assert.Equal(1, PrometheusText.Sum(await node.MetricsAsync(), "switchman_server_active_requests", ("backend", "api"), ("server", "a")));
        Assert.Equal("a", ServerOf(await slow));
        Assert.Equal(0, node.DataPlane.InFlight("api", "a"));
        Assert.Equal(0, PrometheusText.Sum(await node.MetricsAsync(), "switchman_server_active_requests", ("backend", "api"), ("server", "a")));
        Assert.Equal(1, a.RequestsServed);

        await node.Host.ConfigStore.SetServerStateAsync("api", "a", ServerAdminState.Maint, "test", CancellationToken.None);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("b", ServerOf(await client.GetStringAsync($"/items/{i}")));
        }
        Assert.Equal("maint", (await node.ServerStatusAsync("api", "a")).State);

        await node.Host.ConfigStore.SetServerStateAsync("api", "a", ServerAdminState.Ready, "test", CancellationToken.None);
        var after = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            after.Add(ServerOf(await client.GetStringAsync($"/items/{i}")));
        }
        Assert.Contains("a", after);
    }

    [Fact]
    public async Task Sticky_ClientWithCookie_StaysOnItsServer_EvenWhileDraining()
    {
        var backend = (await BackendOfAsync(BalanceAlgorithm.RoundRobin, ("a", 1, false), ("b", 1, false)))
            with { Sticky = new StickyConfig { Cookie = "SRV" } };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        using var handler = new HttpClientHandler { UseCookies = true, CookieContainer = new CookieContainer() };
        using var client = new HttpClient(handler) { BaseAddress = node.FrontendUrl() };

        var first = ServerOf(await client.GetStringAsync("/cart"));
        await node.Host.ConfigStore.SetServerStateAsync("api", first, ServerAdminState.Drain, "test", CancellationToken.None);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(first, ServerOf(await client.GetStringAsync("/cart")));
        }

        using var stranger = node.CreateFrontendClient();
        for (var i = 0; i < 10; i++)
        {
            Assert.NotEqual(first, ServerOf(await stranger.GetStringAsync("/cart")));
        }
    }

    internal static string ServerOf(string demoBackendJson) =>
        System.Text.Json.JsonDocument.Parse(demoBackendJson).RootElement.GetProperty("server").GetString()!;

    private static HttpClient ClientFrom(IPAddress source) => new(LoopbackSource.Handler(source));
}
