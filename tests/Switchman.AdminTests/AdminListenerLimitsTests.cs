using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;
using Switchman.Core.Configuration.Writing;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.AdminTests;

/// <summary>The admin listener's limits on bodies, headers and slow clients (docs/admin-api.md, "Limits").</summary>
public class AdminListenerLimitsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int MiB = 1024 * 1024;

    private readonly DemoBackends _backends = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _backends.DisposeAsync();

    private Task<SwitchmanTestNode> StartNodeAsync() => AdminTestNodes.StartWithServerAAsync(_backends, output);

    [Fact]
    public async Task KestrelLimits_AreTheDocumentedOnes()
    {
        await using var node = await StartNodeAsync();

        var limits = node.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        Assert.Equal(8 * 1024 * 1024, limits.MaxRequestBodySize);
        Assert.Equal(32 * 1024, limits.MaxRequestHeadersTotalSize);
        Assert.Equal(100, limits.MaxRequestHeaderCount);
        Assert.Equal(8 * 1024, limits.MaxRequestLineSize);
        Assert.Equal(TimeSpan.FromSeconds(10), limits.RequestHeadersTimeout);
        Assert.Equal(TimeSpan.FromSeconds(60), limits.KeepAliveTimeout);
        Assert.Equal((1024d, TimeSpan.FromSeconds(5)), (limits.MinRequestBodyDataRate!.BytesPerSecond, limits.MinRequestBodyDataRate.GracePeriod));
        Assert.Equal(1000, limits.MaxConcurrentConnections);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PutConfig_OverFourMiB_413SaysTheLimit_ConfigUnchanged(bool chunked)
    {
        await using var node = await StartNodeAsync();
        var yaml = await node.Admin.GetStringAsync("/api/v1/config");
        // A valid configuration that applies, made too large by a comment.
        var body = Encoding.UTF8.GetBytes(yaml.Replace("backends:", "backends:\n  # " + new string('x', 5 * MiB) + "\n", StringComparison.Ordinal));
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/config") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/yaml");
        // Chunked: no Content-Length to refuse it by, the limit is found while reading.
        request.Headers.TransferEncodingChunked = chunked;

        using var response = await node.Admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("the configuration is larger than 4 MiB, the most PUT /api/v1/config takes", await ErrorAsync(response));
        Assert.Equal(1, node.Revision);
        // The node takes the next request as before.
        Assert.Equal(HttpStatusCode.OK, (await node.Reader.GetAsync("/api/v1/status")).StatusCode);
    }

    [Fact]
    public async Task PutConfig_ThreeMiBWithWrongToken_ClientReads401_NotAReset()
    {
        await using var node = await StartNodeAsync();
        using var stranger = node.CreateClient("not-a-token");
        using var content = new ByteArrayContent(new byte[3 * MiB]);
        content.Headers.ContentType = new("application/yaml");

        // Refused before a byte of it is read; the body is then read and dropped, so the client, still sending, gets the answer.
        using var response = await stranger.PutAsync("/api/v1/config", content);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("the bearer token is not valid on this node", await ErrorAsync(response));
    }

    [Fact]
    public async Task PutConfig_JsonOfTwentyThousandServers_Taken()
    {
        await using var node = await StartNodeAsync();
        // 1,000 backends of 20 servers, with health checks and routes: 2.9 MB as JSON, over the 1 MiB this endpoint took before.
        var json = Encoding.UTF8.GetBytes(ConfigWriter.ToJson(BigConfig(node.RunningConfig, backends: 1000, servers: 20)));
        output.WriteLine($"{json.Length} bytes of JSON");
        Assert.InRange(json.Length, 2 * MiB, 4 * MiB);
        using var content = new ByteArrayContent(json);
        content.Headers.ContentType = new("application/json");

        using var response = await node.Admin.PutAsync("/api/v1/config?dry_run=true", content);

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var changes = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("changes");
        Assert.Contains(changes.EnumerateArray(), c => c.GetString()!.Contains("backend-999", StringComparison.Ordinal));
    }

    [Fact]
    public async Task JsonBody_Over64KiB_413SaysTheLimit_StateUnchanged()
    {
        await using var node = await StartNodeAsync();
        var body = "{\"state\": \"drain\", \"note\": \"" + new string('x', 100 * 1024) + "\"}";

        using var response = await node.Admin.PostAsync("/api/v1/backends/api/servers/a/state", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("the body is larger than 64 KiB, the most POST /api/v1/backends/api/servers/a/state takes", await ErrorAsync(response));
        Assert.Equal("ready", (await node.ServerStatusJsonAsync("api", "a")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task HeadersOver32KiB_431()
    {
        await using var node = await StartNodeAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/status");
        request.Headers.Add("X-Padding", new string('x', 33 * 1024));

        using var response = await node.Reader.SendAsync(request);

        // Kestrel answers before the request reaches the API: no body.
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await node.Reader.GetAsync("/api/v1/status")).StatusCode);
    }

    [Fact]
    public async Task RequestLineOver8KiB_414()
    {
        await using var node = await StartNodeAsync();

        using var response = await node.Reader.GetAsync("/api/v1/events?since=" + new string('1', 9 * 1024));

        Assert.Equal(HttpStatusCode.RequestUriTooLong, response.StatusCode);
    }

    [Fact]
    public async Task ThousandConnectionsOpen_NextOnesClosedUnanswered_SaidOnceInTheLog_OneClosed_NextOneServed()
    {
        await using var node = await StartNodeAsync();
        var admin = new Uri(node.AdminUrl);
        var open = new List<Socket>();
        try
        {
            // Each one answered once, so the listener surely counts it; kept alive after that.
            for (var i = 0; i < 1000; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                open.Add(socket);
                await socket.ConnectAsync(admin.Host, admin.Port);
                Assert.StartsWith("HTTP/1.1 200", await AskHealthzAsync(socket), StringComparison.Ordinal);
            }

            for (var i = 0; i < 20; i++)
            {
                using var refused = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await refused.ConnectAsync(admin.Host, admin.Port);
                Assert.Equal("", await AskHealthzAsync(refused));
            }
            // One line says it (Kestrel's own, one per refused connection, is filtered out); the next, a minute later.
            await Await.UntilAsync(() => node.Logs.WithEventId(3003).Any(), TimeSpan.FromSeconds(10), "the refusals to be logged");
            var said = Assert.Single(node.Logs.WithEventId(3003));
            Assert.StartsWith("Admin API: refused ", said.Message, StringComparison.Ordinal);
            Assert.Contains("1000 are open, the listener's limit", said.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(node.Logs.GetSnapshot(), r => r.Category == "Microsoft.AspNetCore.Server.Kestrel.Connections");
            open[0].Dispose();
            open.RemoveAt(0);
            await Await.UntilAsync(async () =>
            {
                using var next = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await next.ConnectAsync(admin.Host, admin.Port);
                return (await AskHealthzAsync(next)).StartsWith("HTTP/1.1 200", StringComparison.Ordinal);
            }, TimeSpan.FromSeconds(10), "a connection served once one of the thousand closed");
        }
        finally
        {
            open.ForEach(s => s.Dispose());
        }
    }

    /// <summary>GET /healthz on <paramref name="socket"/>: the answer's first bytes, or "" when the server closed the connection.</summary>
    private static async Task<string> AskHealthzAsync(Socket socket)
    {
        try
        {
            await socket.SendAsync("GET /healthz HTTP/1.1\r\nHost: admin\r\n\r\n"u8.ToArray());
            var buffer = new byte[1024];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            return Encoding.ASCII.GetString(buffer, 0, read);
        }
        catch (SocketException)
        {
            return "";
        }
    }

    [Fact]
    public async Task SlowHeaders_ConnectionClosedAfterTenSeconds_EventStreamOpenLongerKeepsFlowing()
    {
        await using var node = await StartNodeAsync();
        var start = node.Events.Since(0).LastOrDefault()?.Id ?? 0;
        await using var stream = await SseStream.OpenAsync(node.Reader, $"/api/v1/events?since={start}");
        var admin = new Uri(node.AdminUrl);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(admin.Host, admin.Port);

        // A header line a second, never the blank line that ends them: a client that holds a connection without a request.
        var slow = Stopwatch.StartNew();
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /healthz HTTP/1.1\r\nHost: {admin.Authority}\r\n"));
        var answer = new StringBuilder();
        var buffer = new byte[4096];
        var closed = false;
        while (!closed && slow.Elapsed < TimeSpan.FromSeconds(25))
        {
            try
            {
                await socket.SendAsync(Encoding.ASCII.GetBytes("X-Slow: 1\r\n"));
                using var second = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, second.Token);
                answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
                closed = read == 0;
            }
            catch (OperationCanceledException)
            {
                // Nothing from the server this second: send the next line.
            }
            catch (SocketException)
            {
                closed = true;
            }
        }

        output.WriteLine($"closed after {slow.Elapsed.TotalSeconds:0.0} s, answered: {answer}");
        Assert.True(closed, $"the connection was still open after {slow.Elapsed.TotalSeconds:0} s (Kestrel's default is 30 s)");
        Assert.True(slow.Elapsed >= TimeSpan.FromSeconds(9), $"closed after {slow.Elapsed.TotalSeconds:0.0} s, before the 10 s timeout");
        Assert.StartsWith("HTTP/1.1 408 Request Timeout", answer.ToString(), StringComparison.Ordinal);
        // The event stream opened before has been open longer than the headers timeout: a long response is not cut.
        (await node.Admin.PostAsync("/api/v1/backends/api/servers/a/state", new StringContent("{\"state\":\"drain\"}", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        await stream.NextAsync(e => e.Type == "server_state_changed", TimeSpan.FromSeconds(10), "server_state_changed on the stream opened before the slow client");
    }

    /// <summary>The running configuration's admin section with <paramref name="backends"/> backends of <paramref name="servers"/> loopback servers.</summary>
    private static SwitchmanConfig BigConfig(SwitchmanConfig running, int backends, int servers)
    {
        var yaml = new StringBuilder("frontends:\n");
        for (var f = 0; f < 20; f++)
        {
            yaml.Append($"  fe{f}:\n    listen: 127.0.0.1:{20000 + f}\n    default_backend: backend-{f}\n    routes:\n");
            for (var r = 0; r < backends / 20; r++)
            {
                var b = (f * (backends / 20)) + r;
                yaml.Append($"      - {{ host: svc{b}.example.com, path: /v{r}, backend: backend-{b} }}\n");
            }
        }
        yaml.Append("backends:\n");
        for (var b = 0; b < backends; b++)
        {
            yaml.Append($"  backend-{b}:\n    balance: leastconn\n    servers:\n");
            for (var s = 0; s < servers; s++)
            {
                yaml.Append($"      - {{ name: server-{b}-{s}, address: '127.{b / 250}.{b % 250}.{s + 1}:8080', weight: 10 }}\n");
            }
            yaml.Append("""
                    health: { path: /healthz, host: api.internal, interval: 2s, fast_interval: 500ms, down_interval: 5s, timeout: 1s, rise: 2, fall: 3 }
                    passive: { consecutive_failures: 5, eject_for: 30s }
                    retry: { retries: 2, on_status: [502, 503, 504] }
                    timeouts: { connect: 2s, per_try: 30s, total: 60s }
                    slow_start: 30s

                """);
        }
        var loaded = ConfigLoader.LoadYaml(yaml.ToString(), "big", Path.GetTempPath());
        Assert.True(loaded.IsValid, string.Join("\n", loaded.Errors.Take(5)));
        return loaded.Config! with { Admin = running.Admin };
    }

    private static async Task<string> ErrorAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString()!;
    }
}
