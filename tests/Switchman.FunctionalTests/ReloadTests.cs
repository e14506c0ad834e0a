using System.Net;
using Switchman.Core.Configuration;
using Switchman.DemoBackend;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.FunctionalTests;

/// <summary>A running node takes a new configuration while clients keep sending requests.</summary>
public class ReloadTests(ITestOutputHelper output) : IAsyncLifetime
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

    private async Task<DemoBackendServer> StartAsync(string name)
    {
        var server = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = name }, CancellationToken.None);
        _servers.Add(server);
        return server;
    }

    [Fact]
    public async Task Apply_UnderLoad_WeightsFrontendBackendAndRemovedServer_NoRequestFails()
    {
        var a = await StartAsync("a");
        var b = await StartAsync("b");
        var c = await StartAsync("c");
        var d = await StartAsync("d");
        static ServerConfig Server(string name, DemoBackendServer server, int weight = 1) =>
            new() { Name = name, Address = server.BaseAddress.Authority, Weight = weight };
        var before = TestConfig.Single(new BackendConfig
        {
            Name = "api",
            Servers = ValueList.Create(Server("a", a), Server("b", b), Server("c", c)),
            Health = TestConfig.FastHealth,
        });
        await using var node = await SwitchmanTestNode.StartAsync(before, output);
        var web = node.FrontendUrl();
        using var client = node.CreateFrontendClient();

        await using var load = LoadGenerator.Start(new LoadOptions { Concurrency = 8, MaxDuration = TimeSpan.FromSeconds(60), MaxRequests = 100_000 },
            i => new HttpRequestMessage(HttpMethod.Get, new Uri(web, $"/items/{i}")));
        await load.WaitForCompletedAsync(300, TimeSpan.FromSeconds(30));

        // c turns slow, so requests are in flight on it when it is removed: they must finish.
        c.Behavior = c.Behavior with { Delay = TimeSpan.FromSeconds(1) };
        await Await.UntilAsync(() => c.InFlight > 0, TimeSpan.FromSeconds(10), "requests in flight on c");

        var after = before with
        {
            Frontends = ValueList.Create(before.Frontends[0], new FrontendConfig { Name = "images", Listen = "127.0.0.1:0", DefaultBackend = "images" }),
            Backends = ValueList.Create(
                before.Backends[0] with { Servers = ValueList.Create(Server("a", a, weight: 3), Server("b", b)) },
                new BackendConfig { Name = "images", Servers = ValueList.Create(Server("d", d)) }),
        };
        Assert.Empty(await node.DataPlane.ApplyAsync(after, CancellationToken.None));
        var arrivedAtCBeforeApply = c.ReceivedRequests.Count;
        Assert.True(c.InFlight > 0, "c still had requests in flight when it was removed");

        await load.WaitForCompletedAsync(load.Completed + 600, TimeSpan.FromSeconds(30));
        var result = await load.StopAsync();

        output.WriteLine(result.ToString());
        Assert.Equal(0, result.Failed);
        await Await.UntilAsync(() => c.InFlight == 0, TimeSpan.FromSeconds(10), "c's in-flight requests to finish");
        Assert.Equal(arrivedAtCBeforeApply, c.ReceivedRequests.Count); // nothing new reached the removed server
        using var images = new HttpClient { BaseAddress = node.FrontendUrl("images") };
        Assert.Equal("d", BalancingTests.ServerOf(await images.GetStringAsync("/logo.png")));

        // Weights 3:1 now, exactly, for sequential requests.
        var picks = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            picks.Add(BalancingTests.ServerOf(await client.GetStringAsync("/after")));
        }
        Assert.Equal(30, picks.Count(p => p == "a"));
        Assert.Equal(10, picks.Count(p => p == "b"));
    }

    [Fact]
    public async Task Apply_RoutingOnlyChange_KeepsListenerAndConnections()
    {
        var a = await StartAsync("a");
        var b = await StartAsync("b");
        var before = new SwitchmanConfig
        {
            Frontends = ValueList.Create(new FrontendConfig { Name = "web", Listen = "127.0.0.1:0", DefaultBackend = "one" }),
            Backends = ValueList.Create(
                new BackendConfig { Name = "one", Servers = ValueList.Create(new ServerConfig { Name = "a", Address = a.BaseAddress.Authority }) },
                new BackendConfig { Name = "two", Servers = ValueList.Create(new ServerConfig { Name = "b", Address = b.BaseAddress.Authority }) }),
        };
        await using var node = await SwitchmanTestNode.StartAsync(before, output);
        var url = node.FrontendUrl();
        using var handler = new SocketsHttpHandler();
        var connections = 0;
        handler.ConnectCallback = async (context, token) =>
        {
            Interlocked.Increment(ref connections);
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            await socket.ConnectAsync(context.DnsEndPoint, token);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        };
        using var client = new HttpClient(handler) { BaseAddress = url };
        Assert.Equal("a", BalancingTests.ServerOf(await client.GetStringAsync("/v2/x")));

        var after = before with
        {
            Frontends = ValueList.Create(before.Frontends[0] with { Routes = ValueList.Create(new RouteConfig { Path = "/v2", Backend = "two" }) }),
        };
        Assert.Empty(await node.DataPlane.ApplyAsync(after, CancellationToken.None));

        Assert.Equal("b", BalancingTests.ServerOf(await client.GetStringAsync("/v2/x")));
        Assert.Equal("a", BalancingTests.ServerOf(await client.GetStringAsync("/v3/x")));
        Assert.Equal(url, node.FrontendUrl());
        Assert.Equal(1, connections); // the keep-alive connection survived the reload
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Apply_ListenerCannotBind_ChangesNothing(bool addressNotOnThisHost)
    {
        var a = await StartAsync("a");
        var config = TestConfig.Single(TestConfig.Backend(("a", a.BaseAddress.Authority)));
        await using var node = await SwitchmanTestNode.StartAsync(config, output);
        using var blocker = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        // A port in use, or an address that is not this host's (TEST-NET-3; bound only, never sent to): the node of a
        // cluster whose shared file names another node's address must refuse the revision, not crash.
        var taken = addressNotOnThisHost ? "203.0.113.7:8080" : blocker.LocalEndpoint.ToString()!;

        var broken = config with
        {
            Frontends = ValueList.Create(config.Frontends[0], new FrontendConfig { Name = "second", Listen = taken, DefaultBackend = "api" }),
            Backends = ValueList.Create(config.Backends[0] with { Servers = ValueList.Create(new ServerConfig { Name = "renamed", Address = a.BaseAddress.Authority }) }),
        };
        var errors = await node.DataPlane.ApplyAsync(broken, CancellationToken.None);

        var error = Assert.Single(errors);
        Assert.Equal("frontends.second.listen", error.Path);
        Assert.Equal(config.Frontends, node.DataPlane.Config.Frontends);
        Assert.Equal(config.Backends, node.DataPlane.Config.Backends);
        Assert.Equal(["web"], node.DataPlane.FrontendUrls.Keys);
        Assert.Equal("a", (await node.StatusAsync()).Backends[0].Servers[0].Name);
        using var client = node.CreateFrontendClient();
        Assert.Equal("a", BalancingTests.ServerOf(await client.GetStringAsync("/still-served")));
    }

    [Fact]
    public async Task A_frontend_on_a_vip_this_node_does_not_hold_binds_and_is_ready_while_one_on_any_other_foreign_address_is_refused()
    {
        var a = await StartAsync("a");
        var config = TestConfig.Single(TestConfig.Backend(("a", a.BaseAddress.Authority)));
        await using var node = await SwitchmanTestNode.StartAsync(config, output);
        // TEST-NET-3 addresses: bound only (IP_FREEBIND), never added to an interface, never sent to.
        var onVip = config with
        {
            Vips = ValueList.Create(new VipConfig { Name = "api", Address = "203.0.113.7/24", Interface = "lo" }),
            Frontends = ValueList.Create(config.Frontends[0], new FrontendConfig { Name = "vip", Listen = "203.0.113.7:0", DefaultBackend = "api" }),
        };

        Assert.Empty(await node.DataPlane.ApplyAsync(onVip, CancellationToken.None));
        Assert.StartsWith("http://203.0.113.7:", Assert.Single(node.DataPlane.FrontendUrls["vip"]), StringComparison.Ordinal);

        var elsewhere = onVip with
        {
            Frontends = ValueList.Create(config.Frontends[0], new FrontendConfig { Name = "vip", Listen = "203.0.113.8:0", DefaultBackend = "api" }),
        };
        Assert.Equal("frontends.vip.listen", Assert.Single(await node.DataPlane.ApplyAsync(elsewhere, CancellationToken.None)).Path);
    }
}
