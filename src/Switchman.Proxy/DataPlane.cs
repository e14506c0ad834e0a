using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Switchman.Core.Configuration;
using Switchman.Proxy.Diagnostics;
using Switchman.Proxy.Forwarding;
using Switchman.Proxy.Health;
using Switchman.Proxy.Hosting;
using Switchman.Proxy.Runtime;
using Yarp.ReverseProxy.Forwarder;

namespace Switchman.Proxy;

/// <summary>
/// The data plane of one node: frontends (Kestrel listeners), backends with their live server state, active health
/// checks, and the access log. It owns all of them: <see cref="StartAsync"/> brings them up in dependency order,
/// <see cref="StopAsync"/> takes them down in reverse and lets in-flight requests finish.
/// </summary>
public sealed class DataPlane : IAsyncDisposable
{
    private readonly ProxyRuntime _runtime;
    private readonly ActiveHealthMonitor _health;
    private readonly AccessLog _accessLog;
    private readonly List<FrontendServer> _frontends = [];
    private readonly ProxyDiagnostics _diagnostics;
    private readonly TimeProvider _time;
    private int _stopped;

    public DataPlane(SwitchmanConfig config, ILoggerFactory loggerFactory, IMeterFactory meterFactory, TimeProvider time, IHttpForwarder forwarder)
    {
        _time = time;
        _diagnostics = new ProxyDiagnostics(loggerFactory.CreateLogger("Switchman.Proxy"), new ProxyMetrics(meterFactory));
        _runtime = new ProxyRuntime(config, time);
        _health = new ActiveHealthMonitor(_runtime.Backends.Values, time, _diagnostics);
        _accessLog = AccessLog.Open(config.AccessLog.Path, _diagnostics.Logger);
        var handler = new ProxyRequestHandler(forwarder, new PassiveHealthPolicy(time, _diagnostics), _diagnostics, _accessLog, time);
        foreach (var frontend in config.Frontends)
        {
            _frontends.Add(FrontendServer.Create(frontend, () => _runtime, handler, loggerFactory));
        }
    }

    /// <summary>Raised when active health checks take a server down or bring it up.</summary>
    public event Action<ServerHealthChange>? HealthChanged
    {
        add => _diagnostics.HealthChanged += value;
        remove => _diagnostics.HealthChanged -= value;
    }

    /// <summary>Completes when every server has had its first health probe.</summary>
    public Task FirstHealthRound => _health.FirstRoundCompleted;

    public bool IsReady => _health.FirstRoundCompleted.IsCompletedSuccessfully;

    public IReadOnlyDictionary<string, IReadOnlyList<string>> FrontendUrls =>
        _frontends.ToDictionary(f => f.Name, f => f.Urls);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _accessLog.Start();
        _health.Start();
        foreach (var frontend in _frontends)
        {
            await frontend.StartAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops listening, waits for in-flight requests until the token fires, then stops checks and logging. Safe to call twice.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }
        await Task.WhenAll(_frontends.Select(f => f.StopAsync(cancellationToken))).ConfigureAwait(false);
        await _health.StopAsync().ConfigureAwait(false);
        await _accessLog.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Sets a server's administrative state (ready, drain, maint). False when there is no such server.</summary>
    public bool TrySetServerState(string backend, string server, ServerAdminState state)
    {
        if (FindServer(backend, server) is not { } found)
        {
            return false;
        }
        found.AdminState = state;
        return true;
    }

    /// <summary>Requests in flight to one server, or null when there is no such server.</summary>
    public int? InFlight(string backend, string server) => FindServer(backend, server)?.InFlight;

    private ServerRuntime? FindServer(string backend, string server) =>
        _runtime.Backends.TryGetValue(backend, out var found) ? found.FindServer(server) : null;

    public StatusReport GetStatus()
    {
        var now = _time.GetTimestamp();
        var frontends = _frontends.Select(f => new FrontendStatus(f.Name, f.Config.Listen, f.Urls)).ToList();
        var backends = _runtime.Backends.Values.Select(b => new BackendStatus(
            b.Name,
            b.Config.Balance.ToString().ToLowerInvariant(),
            b.Servers.Count(s => s.IsAvailable(now)),
            [.. b.Servers.Select(s => ToStatus(s, now))])).ToList();
        return new StatusReport(IsReady, frontends, backends);
    }

    private static ServerStatus ToStatus(ServerRuntime server, long now)
    {
        var check = server.LastCheck;
        return new ServerStatus(
            server.Name,
            server.Address.ToString(),
            server.IsBackup,
            server.AdminState.ToString().ToLowerInvariant(),
            server.IsHealthy ? "up" : "down",
            server.IsAvailable(now),
            server.Weight,
            server.InFlight,
            server.RequestsTotal,
            server.EjectedUntil,
            check is null ? null : new CheckStatus(check.Success, check.Detail, check.Time, check.Duration.TotalMilliseconds));
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        foreach (var frontend in _frontends)
        {
            await frontend.DisposeAsync().ConfigureAwait(false);
        }
        await _health.DisposeAsync().ConfigureAwait(false);
        _runtime.Dispose();
    }
}
