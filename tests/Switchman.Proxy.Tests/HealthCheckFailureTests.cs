using System.Net.Sockets;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Switchman.Core.Configuration;
using Switchman.Proxy.Diagnostics;
using Switchman.Proxy.Health;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Tests;

/// <summary>However a probe fails, it is a failed check — logged with its reason, counted — and the checks go on.</summary>
public class HealthCheckFailureTests
{
    private static readonly HealthCheckConfig Health = new()
    {
        Interval = TimeSpan.FromSeconds(2),
        DownInterval = TimeSpan.FromSeconds(5),
        Timeout = TimeSpan.FromSeconds(1),
        Rise = 2,
        Fall = 2,
    };

    /// <summary>What SocketsHttpHandler throws when its ConnectTimeout ends a connect that got no answer.</summary>
    private static TaskCanceledException ConnectTimeout() =>
        new("The operation was canceled.", new TimeoutException("A connection could not be established within the configured ConnectTimeout."));

    [Fact]
    public async Task Checker_ConnectTimeoutThrown_CountsAsFailedCheck_ServerGoesDown_AndChecksGoOn()
    {
        var time = new TimerCountingTimeProvider();
        using var fixture = new CheckerFixture(time);
        var probe = new ScriptedProbe(time) { Answer = () => throw ConnectTimeout() };
        var checker = fixture.Checker(probe, Health);

        using var stop = new CancellationTokenSource();
        var loop = checker.RunAsync(stop.Token);
        await probe.ProbedAsync(1);
        Assert.True(fixture.Server.IsHealthy); // fall = 2
        time.Advance(Health.Interval);
        await probe.ProbedAsync(2);
        Assert.False(fixture.Server.IsHealthy);
        Assert.Equal(new HealthCheckResult(false, "connect timed out", time.GetUtcNow(), TimeSpan.Zero), fixture.Server.LastCheck);

        // Down: checked on at down_interval, each check failed and counted.
        time.Advance(Health.EffectiveDownInterval);
        await probe.ProbedAsync(3);
        time.Advance(Health.EffectiveDownInterval);
        await probe.ProbedAsync(4);
        Assert.False(loop.IsCompleted);
        Assert.Equal(time.GetUtcNow(), fixture.Server.LastCheck!.Time);
        Assert.Equal(Enumerable.Repeat("connect_timeout", 4), fixture.CheckResults());

        var failures = fixture.Logs.GetSnapshot().Where(r => r.Id.Id == 1105).ToList();
        Assert.Equal(
            [
                (LogLevel.Information, "Health check of api/a failed (connect_timeout): connect timed out; 1/2 toward DOWN"),
                (LogLevel.Information, "Health check of api/a failed (connect_timeout): connect timed out; now DOWN"),
                (LogLevel.Debug, "Health check of api/a failed (connect_timeout): connect timed out; still DOWN"),
                (LogLevel.Debug, "Health check of api/a failed (connect_timeout): connect timed out; still DOWN"),
            ],
            failures.Select(r => (r.Level, r.Message)));
        Assert.Single(fixture.Logs.GetSnapshot(), r => r.Id.Id == 1101);

        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(loop.IsCompletedSuccessfully);
    }

    public static TheoryData<string, string, string> ProbeFailures => new()
    {
        { "connect timeout", "connect_timeout", "connect timed out" },
        { "refused", "refused", "connection refused" },
        { "reset while reading", "reset", "connection reset" },
        { "response ended", "reset", "connection closed before the response was complete" },
        { "invalid response", "protocol", "invalid response: bad status line" },
        { "unreachable", "unreachable", "unreachable" },
        { "unknown host", "name_resolution", "name resolution failed: Name or service not known" },
        { "foreign cancellation", "error", "OperationCanceledException: The operation was canceled." },
        { "anything else", "error", "InvalidOperationException: boom" },
    };

    [Theory]
    [MemberData(nameof(ProbeFailures))]
    public async Task Checker_ProbeThrows_FailedCheckNamedByReason(string failure, string reason, string detail)
    {
        var time = new FakeTimeProvider();
        using var fixture = new CheckerFixture(time);
        var checker = fixture.Checker(new ThrowingProbe(Exception(failure)), Health with { Fall = 1 });

        await checker.CheckOnceAsync(CancellationToken.None);

        Assert.False(fixture.Server.IsHealthy);
        Assert.Equal(detail, fixture.Server.LastCheck!.Detail);
        Assert.Equal([reason], fixture.CheckResults());
        Assert.Contains(fixture.Logs.GetSnapshot(), r => r.Id.Id == 1105 && r.Message.Contains($"({reason})", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Checker_ResultHandlerThrows_FaultLogged_AndChecksGoOn()
    {
        var time = new TimerCountingTimeProvider();
        using var fixture = new CheckerFixture(time);
        fixture.Diagnostics.HealthChanged += _ => throw new InvalidOperationException("handler bug");
        var probe = new ScriptedProbe(time) { Healthy = false };
        var checker = fixture.Checker(probe, Health with { Fall = 1 });

        using var stop = new CancellationTokenSource();
        var loop = checker.RunAsync(stop.Token);
        await probe.ProbedAsync(1);
        time.Advance(Health.EffectiveDownInterval);
        await probe.ProbedAsync(2);

        Assert.False(loop.IsCompleted);
        var fault = Assert.Single(fixture.Logs.GetSnapshot(), r => r.Id.Id == 1106);
        Assert.Equal(LogLevel.Error, fault.Level);
        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Checker_StoppedDuringProbe_EndsAtOnce_AndDoesNotCountTheCheck()
    {
        var time = new FakeTimeProvider();
        using var fixture = new CheckerFixture(time);
        var probe = new HangingProbe();
        var checker = fixture.Checker(probe, Health);

        using var stop = new CancellationTokenSource();
        var loop = checker.RunAsync(stop.Token);
        await probe.Started.WaitAsync(TimeSpan.FromSeconds(10));
        await stop.CancelAsync();

        // No time moves: stopping does not wait for the check's timeout.
        await loop.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(loop.IsCompletedSuccessfully);
        Assert.Null(fixture.Server.LastCheck);
        Assert.Empty(fixture.CheckResults());
        Assert.True(checker.FirstCheckCompleted.IsCompleted, "readiness is not held up by a server whose checks stopped");
    }

    [Fact]
    public async Task Monitor_ProbesThatThrow_ReconcileAndStopComplete_StopTwiceIsSafe()
    {
        var time = new FakeTimeProvider();
        using var fixture = new CheckerFixture(time);
        using var backend = TestBackends.Weighted(BalanceAlgorithm.RoundRobin, ("a", 1), ("b", 1));
        var withHealth = new BackendRuntime(backend.Config with { Health = Health }, time);
        await using var monitor = new ActiveHealthMonitor([withHealth], time, fixture.Diagnostics, _ => new ThrowingProbe(ConnectTimeout()));

        monitor.Start();
        await monitor.FirstRoundCompleted.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(withHealth.Servers, s => Assert.Equal("connect timed out", s.LastCheck?.Detail));

        // Removing the servers stops their loops, which must not have died before.
        await monitor.ReconcileAsync([]).WaitAsync(TimeSpan.FromSeconds(10));
        await monitor.StopAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await monitor.StopAsync();
        withHealth.Dispose();
    }

    private static Exception Exception(string failure) => failure switch
    {
        "connect timeout" => ConnectTimeout(),
        "refused" => new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (127.0.0.1:1)", new SocketException((int)SocketError.ConnectionRefused)),
        "reset while reading" => new HttpRequestException("An error occurred while sending the request.",
            new IOException("Unable to read data from the transport connection", new SocketException((int)SocketError.ConnectionReset))),
        "response ended" => new HttpRequestException(HttpRequestError.ResponseEnded, "The response ended prematurely."),
        "invalid response" => new HttpRequestException(HttpRequestError.InvalidResponse, "bad status line"),
        "unreachable" => new HttpRequestException(HttpRequestError.ConnectionError, "No route to host", new SocketException((int)SocketError.HostUnreachable)),
        "unknown host" => new HttpRequestException(HttpRequestError.NameResolutionError, "Name or service not known", new SocketException((int)SocketError.HostNotFound, "Name or service not known")),
        "foreign cancellation" => new OperationCanceledException(),
        _ => new InvalidOperationException("boom"),
    };

    private sealed class ThrowingProbe(Exception exception) : IHealthProbe
    {
        public async Task<ProbeResult> ProbeAsync(ServerRuntime server, CancellationToken cancellationToken)
        {
            await Task.Yield();
            throw exception;
        }
    }

    private sealed class HangingProbe : IHealthProbe
    {
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Started => _started.Task;

        public async Task<ProbeResult> ProbeAsync(ServerRuntime server, CancellationToken cancellationToken)
        {
            _started.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return ProbeResult.Healthy("never");
        }
    }

    /// <summary>One server "api/a" with diagnostics whose logs and check counts the test reads.</summary>
    private sealed class CheckerFixture : IDisposable
    {
        private readonly TestMeterFactory _meters = new();
        private readonly MetricCollector<long> _checks;
        private readonly TimeProvider _time;

        public CheckerFixture(TimeProvider time)
        {
            _time = time;
            _checks = new MetricCollector<long>(_meters, ProxyMetrics.MeterName, "switchman.server.health.checks");
            Diagnostics = new ProxyDiagnostics(new FakeLogger(Logs), new ProxyMetrics(_meters));
            Server = new ServerRuntime("api", new ServerConfig { Name = "a", Address = "127.0.0.1:1" }, initiallyHealthy: true, time);
        }

        public FakeLogCollector Logs { get; } = new();

        public ProxyDiagnostics Diagnostics { get; }

        public ServerRuntime Server { get; }

        public ServerHealthChecker Checker(IHealthProbe probe, HealthCheckConfig health) => new(Server, health, probe, _time, Diagnostics);

        /// <summary>The result label of every check counted so far, in order.</summary>
        public IEnumerable<string> CheckResults() => _checks.GetMeasurementSnapshot().Select(m => (string)m.Tags["result"]!);

        public void Dispose()
        {
            _checks.Dispose();
            _meters.Dispose();
        }
    }
}
