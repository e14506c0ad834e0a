using System.Net;
using System.Net.Sockets;
using System.Text;
using Switchman.Core.Configuration;
using Switchman.DemoBackend;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.FunctionalTests;

/// <summary>Clients that misbehave get a clear error, and the node keeps serving everybody else.</summary>
public class BadInputTests(ITestOutputHelper output) : IAsyncLifetime
{
    private DemoBackendServer _backend = null!;

    public async Task InitializeAsync() =>
        _backend = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "a" }, CancellationToken.None);

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Fact]
    public async Task MalformedRequestLine_Gets400_NodeKeepsServing()
    {
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Backend(("a", _backend.BaseAddress.Authority))), output);

        var answer = await SendRawAsync(node.FrontendUrl(), "GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 400", answer, StringComparison.Ordinal);
        await AssertStillServesAsync(node);
    }

    [Fact]
    public async Task OversizedHeaders_Get431_NodeKeepsServing()
    {
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Backend(("a", _backend.BaseAddress.Authority))), output);

        var answer = await SendRawAsync(node.FrontendUrl(), $"GET / HTTP/1.1\r\nHost: x\r\nX-Big: {new string('a', 64 * 1024)}\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 431", answer, StringComparison.Ordinal);
        Assert.Empty(_backend.ReceivedRequests);
        await AssertStillServesAsync(node);
    }

    [Fact]
    public async Task SlowClient_SendingHeadersForever_IsCutOffAfterRequestHeadersTimeout()
    {
        var frontend = new FrontendConfig
        {
            Name = "web",
            Listen = "127.0.0.1:0",
            DefaultBackend = "api",
            Timeouts = new FrontendTimeouts { RequestHeaders = TimeSpan.FromSeconds(2) },
        };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Backend(("a", _backend.BaseAddress.Authority)), frontend), output);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, node.FrontendUrl().Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n"));

        // Never finish the headers: Kestrel answers 408 and closes once request_headers has passed (its timer ticks
        // once a second, so allow generously more).
        var buffer = new byte[1024];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var received = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);

        Assert.StartsWith("HTTP/1.1 408", Encoding.ASCII.GetString(buffer, 0, received), StringComparison.Ordinal);
        Assert.Empty(_backend.ReceivedRequests);
        await AssertStillServesAsync(node);
    }

    private static async Task AssertStillServesAsync(SwitchmanTestNode node)
    {
        using var client = node.CreateFrontendClient();
        using var response = await client.GetAsync("/still-here");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task<string> SendRawAsync(Uri url, string request)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, url.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(request));
        var buffer = new byte[4096];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var received = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
        return Encoding.ASCII.GetString(buffer, 0, received);
    }
}
