using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Switchman.Supervisor.Monitoring;
using Switchman.Testing;

namespace Switchman.Supervisor.Tests;

public sealed class MonitorTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(300);

    /// <summary>A failed check must come back within its timeout, plus what a loaded two-core machine may add.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(1);

    /// <summary>Timers may fire this much before their time as the stopwatch measures it.</summary>
    private static readonly TimeSpan TimerGrain = TimeSpan.FromMilliseconds(20);

    private WebApplication _app = null!;
    private Uri _base = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.MapGet("/ok", () => "ok");
        _app.MapGet("/error", () => Results.StatusCode(500));
        _app.MapGet("/moved", () => Results.Redirect("/elsewhere"));
        await _app.StartAsync();
        _base = new Uri(_app.Urls.Single());
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    /// <summary>For checks that should pass or fail fast: the first request of a test run (JIT, Kestrel's start) may take longer than <see cref="Timeout"/>.</summary>
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);

    private static async Task<MonitorResult> CheckAsync(Uri url, TimeSpan? timeout = null)
    {
        using var monitor = new HttpMonitor(url, timeout ?? Generous, TimeProvider.System);
        return await monitor.CheckAsync(CancellationToken.None);
    }

    [Fact]
    public async Task HttpMonitor_200_IsOk()
    {
        var result = await CheckAsync(new Uri(_base, "/ok"));

        Assert.True(result.Ok, result.Problem);
        Assert.Null(result.Problem);
        Assert.True(result.Latency > TimeSpan.Zero);
    }

    [Fact]
    public async Task HttpMonitor_Redirect_IsOkAndNotFollowed()
    {
        var result = await CheckAsync(new Uri(_base, "/moved"));

        Assert.True(result.Ok, result.Problem);
    }

    [Fact]
    public async Task HttpMonitor_500_IsAProblemNamingTheStatus()
    {
        var result = await CheckAsync(new Uri(_base, "/error"));

        Assert.Equal((false, "HTTP 500"), (result.Ok, result.Problem));
    }

    [Fact]
    public async Task HttpMonitor_ClosedPort_IsConnectionRefused()
    {
        var result = await CheckAsync(new Uri($"http://127.0.0.1:{ClosedPort()}/"));

        Assert.Equal((false, "connection refused"), (result.Ok, result.Problem));
    }

    [Fact]
    public async Task HttpMonitor_ServerThatNeverAnswers_FailsWithinTheTimeout()
    {
        await using var hung = new BlackHoleListener();

        var result = await CheckAsync(hung.BaseAddress, Timeout);

        Assert.Equal((false, "no answer within 300ms"), (result.Ok, result.Problem));
        Assert.InRange(result.Latency, Timeout - TimerGrain, Timeout + Slack);
    }

    [Fact]
    public async Task HttpMonitor_AddressThatDropsConnects_FailsWithinTheTimeout()
    {
        using var dark = await SynDropListener.StartAsync();

        var result = await CheckAsync(new Uri($"http://{dark.Address}/"), Timeout);

        Assert.Equal((false, "no answer within 300ms"), (result.Ok, result.Problem));
        Assert.InRange(result.Latency, Timeout - TimerGrain, Timeout + Slack);
    }

    [Fact]
    public async Task HttpMonitor_CallerCancels_Throws()
    {
        await using var hung = new BlackHoleListener();
        using var monitor = new HttpMonitor(hung.BaseAddress, TimeSpan.FromSeconds(30), TimeProvider.System);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => monitor.CheckAsync(cancel.Token));
    }

    [Fact]
    public async Task TcpMonitor_Listening_IsOk()
    {
        var result = await new TcpMonitor("127.0.0.1", _base.Port, Generous, TimeProvider.System).CheckAsync(CancellationToken.None);

        Assert.True(result.Ok, result.Problem);
    }

    [Fact]
    public async Task TcpMonitor_HostName_IsResolved()
    {
        var result = await new TcpMonitor("localhost", _base.Port, Generous, TimeProvider.System).CheckAsync(CancellationToken.None);

        Assert.True(result.Ok, result.Problem);
    }

    [Fact]
    public async Task TcpMonitor_ClosedPort_IsConnectionRefused()
    {
        var result = await new TcpMonitor("127.0.0.1", ClosedPort(), Generous, TimeProvider.System).CheckAsync(CancellationToken.None);

        Assert.Equal((false, "connection refused"), (result.Ok, result.Problem));
    }

    [Fact]
    public async Task TcpMonitor_AddressThatDropsConnects_FailsWithinTheTimeout()
    {
        using var dark = await SynDropListener.StartAsync();

        var result = await new TcpMonitor("127.0.0.1", dark.EndPoint.Port, Timeout, TimeProvider.System).CheckAsync(CancellationToken.None);

        Assert.Equal((false, "no answer within 300ms"), (result.Ok, result.Problem));
        Assert.InRange(result.Latency, Timeout - TimerGrain, Timeout + Slack);
    }

    /// <summary>A loopback port nothing listens on: one just bound and released.</summary>
    private static int ClosedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
