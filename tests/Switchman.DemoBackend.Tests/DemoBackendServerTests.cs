using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Switchman.Testing;

namespace Switchman.DemoBackend.Tests;

/// <summary>The demo backend in-process: a real Kestrel on port 0.</summary>
public class DemoBackendServerTests
{
    private static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Get_AnyPath_EchoesServerMethodPathAndQuery()
    {
        await using var server = await StartAsync("a");
        using var client = ClientFor(server);

        using var response = await client.GetAsync(new Uri("/some/path?x=1&y=2", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("a", response.Headers.GetValues("X-Server").Single());
        var echo = await ReadEchoAsync(response);
        Assert.Equal("a", echo.Server);
        Assert.Equal("GET", echo.Method);
        Assert.Equal("/some/path", echo.Path);
        Assert.Equal("?x=1&y=2", echo.Query);
        Assert.Equal(0, echo.BodyBytes);
        Assert.Equal(1, server.RequestsServed);
    }

    [Fact]
    public async Task Post_WithBodyAndForwardingHeaders_EchoesHeadersAndCountsBody()
    {
        await using var server = await StartAsync("a");
        using var client = ClientFor(server);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/orders")
        {
            Content = new ByteArrayContent(new byte[100_000]),
        };
        request.Headers.Add("X-Forwarded-For", "192.0.2.10");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-Host", "api.example");
        request.Headers.Add("X-Request-Id", "req-1");

        using var response = await client.SendAsync(request);

        var echo = await ReadEchoAsync(response);
        Assert.Equal("POST", echo.Method);
        Assert.Equal(100_000, echo.BodyBytes);
        Assert.Equal("192.0.2.10", echo.Headers["x-forwarded-for"]);
        Assert.Equal("https", echo.Headers["x-forwarded-proto"]);
        Assert.Equal("api.example", echo.Headers["x-forwarded-host"]);
        Assert.Equal("req-1", echo.Headers["x-request-id"]);
        Assert.Equal(server.BaseAddress.Authority, echo.Headers["host"]);

        var recorded = Assert.Single(server.ReceivedRequests);
        Assert.Equal("POST", recorded.Method);
        Assert.Equal("/orders", recorded.Path);
        Assert.Equal(100_000, recorded.BodyBytes);
        Assert.Equal("req-1", recorded.Header("X-Request-Id"));
    }

    [Fact]
    public async Task Healthz_ControlTogglesHealth_AnswersOkThen503ThenOk()
    {
        await using var server = await StartAsync("a");
        using var client = ClientFor(server);

        using (var healthy = await client.GetAsync(new Uri("/healthz", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
            var body = await healthy.Content.ReadFromJsonAsync(DemoBackendJsonContext.Default.DemoHealthResponse);
            Assert.Equal(new DemoHealthResponse("ok", "a"), body);
        }

        await PostControlAsync(client, """{"health":"fail"}""");
        using (var failing = await client.GetAsync(new Uri("/healthz", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failing.StatusCode);
        }

        await PostControlAsync(client, """{"health":"ok"}""");
        using (var recovered = await client.GetAsync(new Uri("/healthz", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        }

        // Health probes are not application traffic.
        Assert.Equal(0, server.RequestsServed);
    }

    [Fact]
    public async Task Get_QueryStatus503_AnswersThatStatusWithEcho()
    {
        await using var server = await StartAsync("a");
        using var client = ClientFor(server);

        using var response = await client.GetAsync(new Uri("/x?status=503", UriKind.Relative));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("a", (await ReadEchoAsync(response)).Server);
    }

    [Fact]
    public async Task Get_QueryStatus204_AnswersWithoutBody()
    {
        await using var server = await StartAsync("a");
        using var client = ClientFor(server);

        using var response = await client.GetAsync(new Uri("/x?status=204", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("/x")]
    [InlineData("/healthz")]
    public async Task Head_AnswersStatusWithoutBody(string target)
    {
        await using var server = await StartAsync("a");
        using var client = ClientFor(server);

        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, target));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("/x?status=99")]
    [InlineData("/x?status=abc")]
    [InlineData("/x?delay=5")]
    [InlineData("/x?delay_ms=-1")]
    public async Task Get_BadQueryOverride_Answers400(string target)
    {
        await using var server = await StartAsync("a");
        using var client = ClientFor(server);

        using var response = await client.GetAsync(new Uri(target, UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync(DemoBackendJsonContext.Default.DemoErrorResponse);
        Assert.False(string.IsNullOrEmpty(error?.Error));
    }

    [Theory]
    [InlineData("/x?delay=250ms")]
    [InlineData("/x?delay_ms=250")]
    public async Task Get_QueryDelay_AnswersOnlyAfterThatMuchTime(string target)
    {
        var time = new FakeTimeProvider();
        await using var server = await StartAsync("a", time);
        using var client = ClientFor(server);

        var response = client.GetAsync(new Uri(target, UriKind.Relative));
        await Await.UntilAsync(() => server.ReceivedRequests.Count == 1, WaitTimeout, "the delayed request to reach the server");
        var advanced = await AdvanceUntilCompletedAsync(time, response);

        using var answered = await response;
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.True(advanced >= TimeSpan.FromMilliseconds(250), $"answered after only {advanced.TotalMilliseconds} ms of (fake) time");
    }

    [Fact]
    public async Task Control_PostDelayAndFailStatus_AppliesToLaterRequestsAndNullClears()
    {
        var time = new FakeTimeProvider();
        await using var server = await StartAsync("a", time);
        using var client = ClientFor(server);

        await PostControlAsync(client, """{"delay_ms":100,"fail_status":500}""");
        Assert.Equal(new DemoBackendBehavior(TimeSpan.FromMilliseconds(100), 500, HealthFailing: false), server.Behavior);

        var failing = client.GetAsync(new Uri("/x", UriKind.Relative));
        await Await.UntilAsync(() => server.ReceivedRequests.Count == 1, WaitTimeout, "the request to reach the server");
        var advanced = await AdvanceUntilCompletedAsync(time, failing);
        using (var response = await failing)
        {
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            Assert.True(advanced >= TimeSpan.FromMilliseconds(100), $"answered after only {advanced.TotalMilliseconds} ms of (fake) time");
        }

        await PostControlAsync(client, """{"delay_ms":0,"fail_status":null}""");
        using (var response = await client.GetAsync(new Uri("/x", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task Control_Get_ReportsSettingsAndCounters()
    {
        await using var server = await StartAsync("a", failStatus: 502, healthFailing: true);
        using var client = ClientFor(server);
        (await client.GetAsync(new Uri("/x", UriKind.Relative))).Dispose();
        (await client.GetAsync(new Uri("/y", UriKind.Relative))).Dispose();

        var state = await client.GetFromJsonAsync(new Uri("/_control", UriKind.Relative), DemoBackendJsonContext.Default.DemoControlResponse);

        Assert.Equal(new DemoControlResponse("a", DelayMs: 0, FailStatus: 502, Health: "fail", RequestsServed: 2, InFlight: 0), state);
    }

    [Fact]
    public async Task Control_PostInvalidFields_Answers400NamingEachAndChangesNothing()
    {
        await using var server = await StartAsync("a");
        using var client = ClientFor(server);
        var before = server.Behavior;

        using var response = await client.PostAsync(
            new Uri("/_control", UriKind.Relative),
            new StringContent("""{"delay_ms":-5,"fail_status":700,"health":"maybe","colour":"red"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync(DemoBackendJsonContext.Default.DemoErrorResponse))!.Error;
        Assert.Contains("delay_ms", error, StringComparison.Ordinal);
        Assert.Contains("fail_status", error, StringComparison.Ordinal);
        Assert.Contains("health", error, StringComparison.Ordinal);
        Assert.Contains("colour", error, StringComparison.Ordinal);
        Assert.Equal(before, server.Behavior);
    }

    [Fact]
    public async Task WebSocket_Ws_EchoesMessages()
    {
        await using var server = await StartAsync("a");
        using var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(WaitTimeout);
        await socket.ConnectAsync(new Uri($"ws://{server.BaseAddress.Authority}/ws"), timeout.Token);

        await socket.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        var buffer = new byte[64];
        var received = await socket.ReceiveAsync(buffer, timeout.Token);

        Assert.Equal("hello", Encoding.UTF8.GetString(buffer, 0, received.Count));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    [Fact]
    public async Task StopAsync_RequestInFlight_LetsItFinishThenRefusesConnections()
    {
        var time = new FakeTimeProvider();
        await using var server = await StartAsync("a", time);
        using var client = ClientFor(server);
        var inFlight = client.GetAsync(new Uri("/x?delay=1s", UriKind.Relative));
        await Await.UntilAsync(() => server.ReceivedRequests.Count == 1, WaitTimeout, "the delayed request to reach the server");

        using var stopTimeout = new CancellationTokenSource(WaitTimeout);
        var stopping = server.StopAsync(stopTimeout.Token);
        Assert.False(stopping.IsCompleted, "a graceful stop must wait for the request in flight");
        await AdvanceUntilCompletedAsync(time, inFlight);
        await stopping;

        using var response = await inFlight;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await AssertConnectionRefusedAsync(server.Port);
    }

    [Fact]
    public async Task AbortAsync_RequestInFlight_ResetsItAndRefusesConnections()
    {
        await using var server = await StartAsync("a");
        using var client = ClientFor(server);
        var inFlight = client.GetAsync(new Uri("/x?delay=1m", UriKind.Relative));
        await Await.UntilAsync(() => server.ReceivedRequests.Count == 1, WaitTimeout, "the delayed request to reach the server");

        await server.AbortAsync();

        await Assert.ThrowsAsync<HttpRequestException>(() => inFlight);
        await AssertConnectionRefusedAsync(server.Port);
        Assert.Equal(0, server.InFlight);
    }

    [Fact]
    public async Task StartAsync_PortInUse_ThrowsIOException()
    {
        await using var first = await StartAsync("a");

        await Assert.ThrowsAnyAsync<IOException>(() => DemoBackendServer.StartAsync(
            new DemoBackendOptions { Name = "b", Listen = first.BaseAddress.Authority }, CancellationToken.None));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("example.com:80")]
    [InlineData("127.0.0.1:70000")]
    public async Task StartAsync_BadListenAddress_ThrowsFormatException(string listen)
    {
        await Assert.ThrowsAsync<FormatException>(() => DemoBackendServer.StartAsync(
            new DemoBackendOptions { Name = "a", Listen = listen }, CancellationToken.None));
    }

    private static Task<DemoBackendServer> StartAsync(
        string name, TimeProvider? time = null, int? failStatus = null, bool healthFailing = false) =>
        DemoBackendServer.StartAsync(
            new DemoBackendOptions
            {
                Name = name,
                TimeProvider = time ?? TimeProvider.System,
                FailStatus = failStatus,
                HealthFailing = healthFailing,
            },
            CancellationToken.None);

    private static HttpClient ClientFor(DemoBackendServer server) =>
        new() { BaseAddress = server.BaseAddress, Timeout = WaitTimeout };

    private static async Task<DemoEchoResponse> ReadEchoAsync(HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync(DemoBackendJsonContext.Default.DemoEchoResponse)
        ?? throw new InvalidOperationException("empty echo body");

    private static async Task PostControlAsync(HttpClient client, string json)
    {
        using var response = await client.PostAsync(
            new Uri("/_control", UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Moves fake time forward in small steps until <paramref name="task"/> completes and returns how far it moved.
    /// A request that honours its delay cannot complete before the delay has been advanced, however slow the machine.
    /// </summary>
    private static async Task<TimeSpan> AdvanceUntilCompletedAsync(FakeTimeProvider time, Task task)
    {
        var step = TimeSpan.FromMilliseconds(50);
        var advanced = TimeSpan.Zero;
        await Await.UntilAsync(
            () =>
            {
                if (task.IsCompleted)
                {
                    return true;
                }
                time.Advance(step);
                advanced += step;
                return false;
            },
            WaitTimeout,
            "the delayed request to complete as fake time advances");
        return advanced;
    }

    private static async Task AssertConnectionRefusedAsync(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var error = await Assert.ThrowsAsync<SocketException>(() => socket.ConnectAsync(IPAddress.Loopback, port));
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
    }
}
