using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Switchman.Core.Configuration;
using Switchman.Proxy.Diagnostics;
using Switchman.Proxy.Health;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Tests;

public class PassiveHealthTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly TestMeterFactory _meters = new();

    private (BackendRuntime Backend, PassiveHealthPolicy Policy) Create(params string[] servers)
    {
        var backend = new BackendRuntime(new BackendConfig
        {
            Name = "api",
            Servers = new ValueList<ServerConfig>(servers.Select((s, i) => new ServerConfig { Name = s, Address = $"127.0.0.1:{2000 + i}" })),
            Passive = new PassiveHealthConfig { ConsecutiveFailures = 3, EjectFor = TimeSpan.FromSeconds(30) },
        }, _time);
        return (backend, new PassiveHealthPolicy(_time, new ProxyDiagnostics(NullLogger.Instance, new ProxyMetrics(_meters))));
    }

    [Fact]
    public void RecordFailure_ConsecutiveFailures_EjectsForConfiguredPeriod()
    {
        var (backend, policy) = Create("a", "b");
        var a = backend.Servers[0];

        policy.RecordFailure(backend, a);
        policy.RecordFailure(backend, a);
        Assert.True(a.IsAvailable(_time.GetTimestamp()));
        policy.RecordFailure(backend, a);
        Assert.False(a.IsAvailable(_time.GetTimestamp()));

        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(a.IsAvailable(_time.GetTimestamp()));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(a.IsAvailable(_time.GetTimestamp()));
    }

    [Fact]
    public void RecordSuccess_BetweenFailures_ResetsTheCount()
    {
        var (backend, policy) = Create("a", "b");
        var a = backend.Servers[0];

        policy.RecordFailure(backend, a);
        policy.RecordFailure(backend, a);
        policy.RecordSuccess(backend, a);
        policy.RecordFailure(backend, a);
        policy.RecordFailure(backend, a);

        Assert.True(a.IsAvailable(_time.GetTimestamp()));
    }

    [Fact]
    public void RecordFailure_LastAvailableServer_IsNeverEjected()
    {
        var (backend, policy) = Create("a", "b");
        var (a, b) = (backend.Servers[0], backend.Servers[1]);
        for (var i = 0; i < 3; i++)
        {
            policy.RecordFailure(backend, a);
        }
        Assert.False(a.IsAvailable(_time.GetTimestamp()));

        for (var i = 0; i < 10; i++)
        {
            policy.RecordFailure(backend, b);
        }

        Assert.True(b.IsAvailable(_time.GetTimestamp()));
    }
}
