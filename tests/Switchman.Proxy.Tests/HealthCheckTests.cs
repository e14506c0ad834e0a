using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Switchman.Core.Configuration;
using Switchman.Proxy.Diagnostics;
using Switchman.Proxy.Health;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Tests;

public class HealthCheckTests
{
    private static readonly HealthCheckConfig Health = new()
    {
        Interval = TimeSpan.FromSeconds(2),
        FastInterval = TimeSpan.FromMilliseconds(500),
        DownInterval = TimeSpan.FromSeconds(5),
        Timeout = TimeSpan.FromSeconds(1),
        Rise = 2,
        Fall = 3,
    };

    [Fact]
    public void RiseFall_UpServer_GoesDownOnlyAfterFallConsecutiveFailures()
    {
        var counter = new RiseFallCounter(rise: 2, fall: 3, initiallyUp: true);

        Assert.False(counter.Record(false));
        Assert.False(counter.Record(false));
        Assert.False(counter.Record(true)); // a success resets the failure streak
        Assert.False(counter.Record(false));
        Assert.False(counter.Record(false));
        Assert.True(counter.IsUp);
        Assert.True(counter.Record(false));
        Assert.False(counter.IsUp);
    }

    [Fact]
    public void RiseFall_DownServer_ComesBackOnlyAfterRiseConsecutiveSuccesses()
    {
        var counter = new RiseFallCounter(rise: 2, fall: 3, initiallyUp: false);

        Assert.False(counter.Record(true));
        Assert.True(counter.InTransition);
        Assert.False(counter.Record(false));
        Assert.False(counter.InTransition);
        Assert.False(counter.Record(true));
        Assert.True(counter.Record(true));
        Assert.True(counter.IsUp);
    }

    [Fact]
    public async Task Checker_FailingServer_DownAfterFall_UpAfterRise_WithHaproxyIntervals()
    {
        var time = new TimerCountingTimeProvider();
        using var meterFactory = new TestMeterFactory();
        var diagnostics = new ProxyDiagnostics(NullLogger.Instance, new ProxyMetrics(meterFactory));
        using var transitions = new MetricCollector<long>(meterFactory, ProxyMetrics.MeterName, "switchman.server.health.transitions");
        var changes = new List<ServerHealthChange>();
        diagnostics.HealthChanged += changes.Add;
        var server = new ServerRuntime("api", new ServerConfig { Name = "a", Address = "127.0.0.1:1" }, initiallyHealthy: true, time);
        var probe = new ScriptedProbe(time);
        var checker = new ServerHealthChecker(server, Health, probe, time, diagnostics);

        using var stop = new CancellationTokenSource();
        var loop = checker.RunAsync(stop.Token);

        // Steady and up: probes every `interval`.
        await probe.ProbedAsync(1);
        probe.Healthy = false;
        time.Advance(TimeSpan.FromSeconds(2));
        await probe.ProbedAsync(2);
        Assert.True(server.IsHealthy);

        // In transition: `fast_interval`.
        time.Advance(TimeSpan.FromMilliseconds(500));
        await probe.ProbedAsync(3);
        Assert.True(server.IsHealthy);
        time.Advance(TimeSpan.FromMilliseconds(500));
        await probe.ProbedAsync(4);
        Assert.False(server.IsHealthy); // three failures in a row = fall

        // Down and steady: `down_interval`; an earlier tick does not probe.
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(4, probe.Count);
        probe.Healthy = true;
        time.Advance(TimeSpan.FromSeconds(1));
        await probe.ProbedAsync(5);
        Assert.False(server.IsHealthy); // one success is not enough: rise = 2
        time.Advance(TimeSpan.FromMilliseconds(500));
        await probe.ProbedAsync(6);
        Assert.True(server.IsHealthy);

        await stop.CancelAsync();
        await loop;
        Assert.Equal([false, true], changes.Select(c => c.Up));
        Assert.Equal(["down", "up"], transitions.GetMeasurementSnapshot().Select(m => (string)m.Tags["state"]!));
    }

    [Fact]
    public async Task Checker_ProbeHangs_CountsAsFailureAfterTimeout()
    {
        var time = new FakeTimeProvider();
        using var meterFactory = new TestMeterFactory();
        var diagnostics = new ProxyDiagnostics(NullLogger.Instance, new ProxyMetrics(meterFactory));
        var server = new ServerRuntime("api", new ServerConfig { Name = "a", Address = "127.0.0.1:1" }, initiallyHealthy: true, time);
        var checker = new ServerHealthChecker(server, Health with { Fall = 1 }, new HangingProbe(), time, diagnostics);

        var check = checker.CheckOnceAsync(CancellationToken.None);
        Assert.False(check.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        await check;

        Assert.False(server.IsHealthy);
        Assert.Contains("timed out", server.LastCheck!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Monitor_FirstRound_CompletesOnlyWhenEveryServerWasProbed()
    {
        var time = new FakeTimeProvider();
        using var meterFactory = new TestMeterFactory();
        var diagnostics = new ProxyDiagnostics(NullLogger.Instance, new ProxyMetrics(meterFactory));
        using var backend = TestBackends.Weighted(BalanceAlgorithm.RoundRobin, ("a", 1), ("b", 1));
        var withHealth = new BackendRuntime(backend.Config with { Health = Health }, time);
        var gate = new GatedProbe();
        await using var monitor = new ActiveHealthMonitor([withHealth], time, diagnostics, _ => gate);

        monitor.Start();
        await gate.ProbedAsync(2);
        Assert.False(monitor.FirstRoundCompleted.IsCompleted);

        gate.Release();
        await monitor.FirstRoundCompleted.WaitAsync(TimeSpan.FromSeconds(10));
        await monitor.StopAsync();
        await monitor.StopAsync(); // stopping twice is safe
        withHealth.Dispose();
    }

    private sealed class HangingProbe : IHealthProbe
    {
        public async Task<ProbeResult> ProbeAsync(ServerRuntime server, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return ProbeResult.Healthy("unreachable");
        }
    }

    private sealed class GatedProbe : IHealthProbe
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _count;

        public void Release() => _gate.TrySetResult();

        public async Task<ProbeResult> ProbeAsync(ServerRuntime server, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            await _gate.Task.WaitAsync(cancellationToken);
            return ProbeResult.Healthy("HTTP 200");
        }

        public async Task ProbedAsync(int count)
        {
            for (var i = 0; i < 500 && Volatile.Read(ref _count) < count; i++)
            {
                await Task.Delay(10);
            }
            Assert.True(Volatile.Read(ref _count) >= count, $"expected {count} probes to start");
        }
    }
}

/// <summary>A fake clock that lets a test wait until code under test has scheduled its timers.</summary>
internal sealed class TimerCountingTimeProvider : FakeTimeProvider
{
    private int _created;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        Interlocked.Increment(ref _created);
        return timer;
    }

    public async Task TimersCreatedAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Volatile.Read(ref _created) < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"waited for {count} timers to be scheduled, saw {_created}");
            }
            await Task.Yield();
        }
    }
}

internal sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
        _meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        foreach (var meter in _meters)
        {
            meter.Dispose();
        }
    }
}
