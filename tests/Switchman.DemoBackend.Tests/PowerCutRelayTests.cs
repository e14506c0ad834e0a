using System.Net;
using System.Net.Sockets;
using Switchman.Testing;

namespace Switchman.DemoBackend.Tests;

public class PowerCutRelayTests
{
    private static readonly TimeSpan NoAnswerWindow = TimeSpan.FromMilliseconds(500);

    [Fact]
    public async Task Requests_BeforePowerCut_AreRelayed()
    {
        await using var server = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "a" }, CancellationToken.None);
        await using var relay = PowerCutRelay.Start(server.BaseAddress);
        using var client = new HttpClient { BaseAddress = new Uri($"http://{relay.Address}/"), Timeout = TimeSpan.FromSeconds(10) };

        for (var i = 0; i < 3; i++)
        {
            using var response = await client.GetAsync($"/items/{i}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(3, server.RequestsServed);
        Assert.Equal(1, relay.Connections);
    }

    [Fact]
    public async Task PowerCut_OpenConnectionGetsNoAnswer_AndNewConnectGetsNoAnswer()
    {
        await using var server = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "a" }, CancellationToken.None);
        await using var relay = PowerCutRelay.Start(server.BaseAddress);
        using var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) };
        // The warm-up may be slow on a busy machine (first request, JIT); only the no-answer wait is bounded by the window.
        using var client = new HttpClient(handler) { BaseAddress = new Uri($"http://{relay.Address}/"), Timeout = TimeSpan.FromSeconds(30) };
        using (var warm = await client.GetAsync("/items/warm"))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        await relay.CutPowerAsync();

        // The kept-alive connection is reused: the request goes out and nothing comes back, not even a reset.
        using var window = new CancellationTokenSource(NoAnswerWindow);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync("/items/after-cut", window.Token));
        Assert.True(window.IsCancellationRequested, "the request ended before the window did: something answered");
        Assert.Equal(1, server.RequestsServed);
        using var fresh = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(NoAnswerWindow);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fresh.ConnectAsync(relay.EndPoint, timeout.Token).AsTask());
    }

    [Fact]
    public async Task RestorePower_OldConnectionsAreGone_NewOnesAreRelayed()
    {
        await using var server = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "a" }, CancellationToken.None);
        await using var relay = PowerCutRelay.Start(server.BaseAddress);
        using var client = new HttpClient { BaseAddress = new Uri($"http://{relay.Address}/"), Timeout = TimeSpan.FromSeconds(10) };
        using (var before = await client.GetAsync("/items/before"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }
        await relay.CutPowerAsync();

        relay.RestorePower();

        // The pooled connection was closed by the "reboot": the client notices and opens a new one.
        using var after = await client.GetAsync("/items/after");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(2, server.RequestsServed);
    }
}
