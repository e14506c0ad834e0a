using System.Net;
using System.Net.Sockets;
using System.Text;
using Switchman.Core.Configuration;
using Switchman.DemoBackend;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.FunctionalTests;

/// <summary>The limits of retrying: what may be sent twice, and what never is.</summary>
public class RetryRuleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task PutWithSmallBody_IsReplayedToAnotherServer_WholeBody()
    {
        using var silent = new BlackHoleListener();
        await using var live = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "live" }, CancellationToken.None);
        var backend = TestConfig.Backend(("silent", silent.Address), ("live", live.BaseAddress.Authority)) with
        {
            Timeouts = new BackendTimeouts { PerTry = TimeSpan.FromMilliseconds(300) },
            Retry = new RetryConfig { Retries = 2, BufferBody = 64 * 1024 },
        };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        using var client = node.CreateFrontendClient();
        var body = new string('x', 10_000);

        for (var i = 0; i < 4; i++)
        {
            using var response = await client.PutAsync($"/items/{i}", new StringContent(body));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(4, live.ReceivedRequests.Count);
        Assert.All(live.ReceivedRequests, r => Assert.Equal(10_000, r.BodyBytes));
    }

    [Fact]
    public async Task PutWithBodyLargerThanBuffer_IsStreamed_AndNotRetriedOnceSent()
    {
        using var silent = new BlackHoleListener();
        await using var live = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "live" }, CancellationToken.None);
        var backend = TestConfig.Backend(("silent", silent.Address), ("live", live.BaseAddress.Authority)) with
        {
            Timeouts = new BackendTimeouts { PerTry = TimeSpan.FromMilliseconds(300) },
            Retry = new RetryConfig { Retries = 2, BufferBody = 1024 },
        };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        using var client = node.CreateFrontendClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            // Chunked (no Content-Length), so the proxy only learns the size by reading past the buffer limit.
            using var content = new StreamContent(new MemoryStream(new byte[8_000]));
            content.Headers.ContentLength = null;
            using var response = await client.PutAsync($"/items/{i}", content);
            statuses.Add(response.StatusCode);
        }

        // Half went to the silent server first; their bodies were (partly) consumed, so they could not be replayed.
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.GatewayTimeout));
        Assert.All(live.ReceivedRequests, r => Assert.Equal(8_000, r.BodyBytes));
    }

    [Fact]
    public async Task ResponseAlreadyStreaming_WhenServerDies_IsNotRetried()
    {
        using var truncating = new TruncatingServer();
        await using var live = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "live" }, CancellationToken.None);
        var backend = TestConfig.Backend(("truncating", truncating.Address), ("live", live.BaseAddress.Authority));
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        using var client = node.CreateFrontendClient();

        // Round robin sends the first request to the truncating server: headers and part of the body, then a reset.
        var failure = await Record.ExceptionAsync(() => client.GetByteArrayAsync("/download"));

        Assert.NotNull(failure);
        Assert.Equal(0, live.RequestsServed);
        Assert.Equal(1, truncating.Requests);
    }

    /// <summary>Answers every request with a 200 promising 100 000 bytes, sends 1 000, and resets the connection.</summary>
    private sealed class TruncatingServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private int _requests;

        public TruncatingServer()
        {
            _listener.Start();
            _loop = AcceptLoopAsync();
        }

        public string Address => _listener.LocalEndpoint.ToString()!;

        public int Requests => Volatile.Read(ref _requests);

        private async Task AcceptLoopAsync()
        {
            try
            {
                while (true)
                {
                    using var socket = await _listener.AcceptSocketAsync(_stop.Token);
                    var buffer = new byte[4096];
                    var received = 0;
                    while (!Encoding.ASCII.GetString(buffer, 0, received).Contains("\r\n\r\n", StringComparison.Ordinal))
                    {
                        received += await socket.ReceiveAsync(buffer.AsMemory(received), _stop.Token);
                    }
                    Interlocked.Increment(ref _requests);
                    await socket.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"), _stop.Token);
                    await socket.SendAsync(new byte[1000], _stop.Token);
                    socket.LingerState = new LingerOption(true, 0); // close with RST, like a crash
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _loop.Wait(TimeSpan.FromSeconds(5));
            _stop.Dispose();
        }
    }
}
