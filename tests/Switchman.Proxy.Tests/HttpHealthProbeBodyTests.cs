using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Switchman.Core.Configuration;
using Switchman.Proxy.Diagnostics;
using Switchman.Proxy.Health;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Tests;

/// <summary>The body match of HTTP checks against a real server on loopback that answers whatever body a test sets.</summary>
public sealed class HttpHealthProbeBodyTests : IAsyncLifetime
{
    private WebApplication? _app;
    private volatile string _body = "";
    private volatile int _status = 200;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Run(async context =>
        {
            context.Response.StatusCode = _status;
            await context.Response.WriteAsync(_body, Encoding.UTF8, context.RequestAborted);
        });
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private string Address => new Uri(_app!.Urls.First()).Authority;

    public static TheoryData<string, HealthCheckConfig, bool, string> Cases => new()
    {
        { "{\"status\":\"ok\"}", new() { ExpectBody = "\"ok\"" }, true, "HTTP 200" },
        { "{\"status\":\"degraded\"}", new() { ExpectBody = "\"ok\"" }, false, "body does not contain \"\\\"ok\\\"\"" },
        { "OK", new() { ExpectBody = "ok" }, false, "body does not contain \"ok\"" }, // case-sensitive
        { "{\"version\":\"v3.14\"}", new() { ExpectBodyRegex = "v3\\.\\d+" }, true, "HTTP 200" },
        { "{\"version\":\"v2.0\"}", new() { ExpectBodyRegex = "v3\\.\\d+" }, false, "body does not match \"v3\\\\.\\\\d+\"" },
        { "ready", new() { ExpectBody = "maintenance", ExpectBodyAbsent = true }, true, "HTTP 200" },
        { "in maintenance", new() { ExpectBody = "maintenance", ExpectBodyAbsent = true }, false, "body contains \"maintenance\"" },
        { "in maintenance", new() { ExpectBodyRegex = "maint[a-z]+", ExpectBodyAbsent = true }, false, "body matches \"maint[a-z]+\"" },
        { "", new() { ExpectBody = "ok" }, false, "body does not contain \"ok\"" },
        { new string('x', 200), new() { ExpectBody = new string('y', 100) }, false, $"body does not contain \"{new string('y', 64)}…\"" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Check_BodyMatch(string body, HealthCheckConfig health, bool healthy, string detail)
    {
        _body = body;

        var result = await ProbeAsync(health);

        Assert.Equal((healthy, detail), (result.Success, result.Detail));
        Assert.Equal(healthy ? "ok" : "body", result.ResultLabel);
    }

    [Fact]
    public async Task Check_StatusFailsFirst_BodyNotLookedAt()
    {
        (_status, _body) = (503, "ok");

        var result = await ProbeAsync(new HealthCheckConfig { ExpectBody = "ok" });

        Assert.Equal((false, "HTTP 503, expected 200-399"), (result.Success, result.Detail));
    }

    [Theory]
    [InlineData(HealthCheckConfig.MaxBodyBytes - 10, true)]
    [InlineData(HealthCheckConfig.MaxBodyBytes + 10, false)]
    public async Task Check_OnlyTheFirst64KiBAreRead(int offset, bool healthy)
    {
        // A 1 MiB body with the text at `offset`: found within the first 64 KiB, not beyond.
        _body = new string('.', offset) + "READY" + new string('.', 1024 * 1024);

        var result = await ProbeAsync(new HealthCheckConfig { ExpectBody = "READY", Timeout = TimeSpan.FromSeconds(5) });

        Assert.Equal(healthy, result.Success);
    }

    [Fact]
    public async Task Check_CatastrophicRegex_FailsAtItsTimeout_NotHanging()
    {
        _body = new string('a', 30_000) + "!";

        var result = await ProbeAsync(new HealthCheckConfig { ExpectBodyRegex = "^(a+)+$", Timeout = TimeSpan.FromSeconds(10) });

        Assert.False(result.Success);
        Assert.StartsWith("body match against \"^(a+)+$\" took longer than 100 ms", result.Detail, StringComparison.Ordinal);
    }

    /// <summary>One check through <see cref="ServerHealthChecker"/> (fall 1), as the monitor runs it; returns what the server recorded.</summary>
    private async Task<(bool Success, string Detail, string ResultLabel)> ProbeAsync(HealthCheckConfig health)
    {
        health = health with { Fall = 1 };
        using var backend = new BackendRuntime(new BackendConfig
        {
            Name = "api",
            Servers = ValueList.Create(new ServerConfig { Name = "a", Address = Address }),
            Health = health,
        }, TimeProvider.System);
        backend.Activate();
        var probe = new HttpHealthProbe(health, backend.HttpClient);
        var server = backend.Servers[0];
        var direct = await probe.ProbeAsync(server, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        using var meters = new TestMeterFactory();
        var checker = new ServerHealthChecker(server, health, probe, TimeProvider.System, new ProxyDiagnostics(NullLogger.Instance, new ProxyMetrics(meters)));
        await checker.CheckOnceAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(direct.Success, server.IsHealthy);
        Assert.Equal(direct.Detail, server.LastCheck!.Detail);
        return (direct.Success, direct.Detail, direct.ResultLabel);
    }
}
