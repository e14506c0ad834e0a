using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http;
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
/// checks, and the access log. It owns all of them: <see cref="StartAsync"/> brings them up, <see cref="ApplyAsync"/>
/// moves them to a new configuration without dropping requests, <see cref="StopAsync"/> takes them down and lets
/// in-flight requests finish.
/// </summary>
public sealed class DataPlane : IAsyncDisposable
{
    /// <summary>How long a replaced listener or backend may take to finish its in-flight requests.</summary>
    public static readonly TimeSpan RetireTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long the warm-up request to one backend may take.</summary>
    private static readonly TimeSpan WarmUpLimit = TimeSpan.FromSeconds(2);

    private readonly Dictionary<string, FrontendServer> _frontends = new(StringComparer.Ordinal);
    private readonly List<Task> _retiring = [];
    private readonly SemaphoreSlim _applyLock = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ActiveHealthMonitor _health;
    private readonly AccessLog _accessLog;
    private readonly ProxyRequestHandler _handler;
    private readonly ProxyDiagnostics _diagnostics;
    private readonly ILoggerFactory _loggerFactory;
    private readonly Lock _holdSync = new();
    private IReadOnlyDictionary<ServerKey, string> _held = new Dictionary<ServerKey, string>();
    private readonly TimeProvider _time;
    private volatile ProxyRuntime _runtime;
    private int _stopped;
    private Task _warming = Task.CompletedTask;

    public DataPlane(SwitchmanConfig config, ILoggerFactory loggerFactory, IMeterFactory meterFactory, TimeProvider time, IHttpForwarder forwarder)
    {
        _time = time;
        _loggerFactory = loggerFactory;
        _diagnostics = new ProxyDiagnostics(loggerFactory.CreateLogger("Switchman.Proxy"), new ProxyMetrics(meterFactory));
        _runtime = new ProxyRuntime(config, time, diagnostics: _diagnostics);
        _runtime.Activate();
        _diagnostics.Metrics.ObserveServers(() => _runtime, time);
        _health = new ActiveHealthMonitor(_runtime.Backends.Values, time, _diagnostics);
        _accessLog = AccessLog.Open(config.AccessLog, _diagnostics.Logger);
        _handler = new ProxyRequestHandler(forwarder, new PassiveHealthPolicy(time, _diagnostics), _diagnostics, _accessLog, time);
        foreach (var frontend in config.Frontends)
        {
            _frontends[frontend.Name] = CreateFrontend(frontend, config.Vips);
        }
    }

    /// <summary>Raised when active health checks take a server down or bring it up.</summary>
    public event Action<ServerHealthChange>? HealthChanged
    {
        add => _diagnostics.HealthChanged += value;
        remove => _diagnostics.HealthChanged -= value;
    }

    /// <summary>The configuration the data plane runs now.</summary>
    public SwitchmanConfig Config => _runtime.Config;

    /// <summary>Completes when every server has had its first health probe.</summary>
    public Task FirstHealthRound => _health.FirstRoundCompleted;

    public bool IsReady => _health.FirstRoundCompleted.IsCompletedSuccessfully;

    public IReadOnlyDictionary<string, IReadOnlyList<string>> FrontendUrls
    {
        get
        {
            lock (_frontends)
            {
                return _frontends.ToDictionary(f => f.Key, f => f.Value.Urls);
            }
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _accessLog.Start();
        _health.Start();
        foreach (var frontend in _frontends.Values)
        {
            await frontend.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        _warming = WarmUpAsync(_stopping.Token);
    }

    /// <summary>
    /// Once the first health round is done, sends each backend's health check request (GET or HEAD only) to one of its
    /// available servers through the forwarding path, so that this node's first client request — on a standby, the
    /// first after it takes a VIP — does not pay for compiling that path and opening its connection. The servers get
    /// one more request of the kind their health checks already send. Each is logged (event 1402); a failure changes nothing.
    /// </summary>
    private async Task WarmUpAsync(CancellationToken stopping)
    {
        try
        {
            await _health.FirstRoundCompleted.WaitAsync(stopping).ConfigureAwait(false);
            var now = _time.GetTimestamp();
            foreach (var backend in _runtime.Backends.Values)
            {
                if (backend.Config.Health is not { Type: HealthCheckType.Http } check
                    || !(HttpMethods.IsGet(check.Method) || HttpMethods.IsHead(check.Method))
                    || backend.Servers.FirstOrDefault(s => s.IsAvailable(now)) is not { } server)
                {
                    continue;
                }
                var started = _time.GetTimestamp();
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                limit.CancelAfter(WarmUpLimit);
                string outcome;
                try
                {
                    outcome = await _handler.WarmAsync(backend, server, check.Method, check.Path, check.Host, limit.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !stopping.IsCancellationRequested))
                {
                    outcome = e.Message;
                }
                DataPlaneLog.Warmed(_diagnostics.Logger, backend.Name, server.Name, _time.GetElapsedTime(started).TotalMilliseconds, outcome);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Moves the running data plane to <paramref name="config"/> (already validated, servers' states and weights as
    /// they should run, operators' overrides included) as a diff: unchanged frontends keep
    /// their sockets and connections, changed listeners are bound anew before the old ones let go, removed frontends and
    /// servers finish their in-flight requests, unchanged servers keep their health and counters.
    /// If a new listener cannot be bound, nothing changes and the errors are returned.
    /// </summary>
    public async Task<IReadOnlyList<ConfigError>> ApplyAsync(SwitchmanConfig config, CancellationToken cancellationToken)
    {
        await _applyLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var previous = _runtime;
            var next = new ProxyRuntime(config, _time, previous, _diagnostics);
            var plan = PlanFrontends(config);

            var errors = await StartAllAsync(plan.Start, cancellationToken).ConfigureAwait(false);
            if (errors.Count > 0)
            {
                foreach (var created in next.Backends.Values.Where(b => !previous.Backends.Values.Contains(b)))
                {
                    created.Dispose();
                }
                return errors;
            }

            _runtime = next;
            lock (_holdSync)
            {
                ApplyHolds(next);
            }
            next.Activate();
            lock (_frontends)
            {
                foreach (var (frontend, updated) in plan.Keep)
                {
                    frontend.UpdateRouting(updated);
                }
                foreach (var retired in plan.Retire)
                {
                    _frontends.Remove(retired.Name);
                }
                foreach (var started in plan.Start)
                {
                    _frontends[started.Name] = started;
                }
            }
            if (config.AccessLog != previous.Config.AccessLog)
            {
                DataPlaneLog.AccessLogNeedsRestart(_diagnostics.Logger);
            }
            await _health.ReconcileAsync(next.Backends.Values).ConfigureAwait(false);

            lock (_retiring)
            {
                _retiring.RemoveAll(t => t.IsCompleted);
                _retiring.AddRange(plan.Retire.Select(RetireFrontendAsync));
                _retiring.AddRange(previous.BackendsDroppedBy(next).Select(RetireBackendAsync));
            }
            return [];
        }
        finally
        {
            _applyLock.Release();
        }
    }

    private FrontendPlan PlanFrontends(SwitchmanConfig config)
    {
        var plan = new FrontendPlan();
        lock (_frontends)
        {
            foreach (var frontend in config.Frontends)
            {
                if (_frontends.TryGetValue(frontend.Name, out var existing) && existing.HasSameListener(frontend))
                {
                    plan.Keep.Add((existing, frontend));
                    continue;
                }
                plan.Start.Add(CreateFrontend(frontend, config.Vips));
                if (existing is not null)
                {
                    plan.Retire.Add(existing);
                }
            }
            plan.Retire.AddRange(_frontends.Values.Where(f => config.Frontends.All(n => n.Name != f.Name)));
        }
        return plan;
    }

    private static async Task<IReadOnlyList<ConfigError>> StartAllAsync(List<FrontendServer> servers, CancellationToken cancellationToken)
    {
        var errors = new List<ConfigError>();
        var started = new List<FrontendServer>();
        foreach (var server in servers)
        {
            try
            {
                await server.StartAsync(cancellationToken).ConfigureAwait(false);
                started.Add(server);
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
            {
                // IOException: Kestrel's "address in use"; SocketException: e.g. an address this host does not have.
                errors.Add(new ConfigError("", 0, 0, $"frontends.{server.Name}.listen", $"cannot listen on {server.Config.Listen}: {ex.Message}"));
            }
        }
        if (errors.Count > 0)
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }
        }
        return errors;
    }

    private async Task RetireFrontendAsync(FrontendServer frontend)
    {
        using var limit = new CancellationTokenSource(RetireTimeout, _time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, limit.Token);
        await frontend.StopAsync(timeout.Token).ConfigureAwait(false);
        await frontend.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Waits until no request is forwarded through a dropped backend any more (at most <see cref="RetireTimeout"/>), then releases its connections.</summary>
    private async Task RetireBackendAsync(BackendRuntime backend)
    {
        using var timeout = new CancellationTokenSource(RetireTimeout, _time);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _stopping.Token);
        try
        {
            await backend.WhenIdleAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested)
        {
            // Timed out, or shutting down: release it now.
        }
        backend.Dispose();
    }

    /// <summary>Requests in flight to one server, or null when there is no such server.</summary>
    public int? InFlight(string backend, string server) => FindServer(backend, server)?.InFlight;

    /// <summary>Completes when no request is in flight to the server (at once if there is no such server).</summary>
    public Task WhenServerIdleAsync(string backend, string server, CancellationToken cancellationToken) =>
        FindServer(backend, server)?.WhenIdleAsync(cancellationToken) ?? Task.CompletedTask;

    /// <summary>
    /// The process behind <paramref name="server"/> was just (re)started and passes its supervisor's monitor: connect to
    /// it now (a suspect server is no longer suspect once that succeeds) and run its health check now, instead of at the
    /// next probe (every second) or check (its interval).
    /// </summary>
    public void Recheck(string backend, string server)
    {
        if (_runtime.Backends.GetValueOrDefault(backend) is not { } pool || pool.FindServer(server) is not { } runtime)
        {
            return;
        }
        if (runtime.Suspicion.IsSuspect)
        {
            pool.Connector.CheckLiveness(runtime);
        }
        _health.CheckSoon(runtime);
    }

    /// <summary>
    /// The servers this node's supervisor holds out of rotation, and why: every other server is released. The whole set
    /// each time, so that a hold can neither leak nor be applied twice; kept for the runtimes that later changes build.
    /// </summary>
    public void HoldOut(IReadOnlyDictionary<ServerKey, string> held)
    {
        ArgumentNullException.ThrowIfNull(held);
        lock (_holdSync)
        {
            _held = held;
            ApplyHolds(_runtime);
        }
    }

    /// <summary>Gives every server of <paramref name="runtime"/> its hold from <see cref="_held"/>; called under <see cref="_holdSync"/>.</summary>
    private void ApplyHolds(ProxyRuntime runtime)
    {
        foreach (var backend in runtime.Backends.Values)
        {
            foreach (var server in backend.Servers)
            {
                server.HoldOut(_held.GetValueOrDefault(new ServerKey(backend.Name, server.Name)));
            }
        }
    }

    private ServerRuntime? FindServer(string backend, string server) =>
        _runtime.Backends.TryGetValue(backend, out var found) ? found.FindServer(server) : null;

    /// <summary>Stops listening, waits for in-flight requests until the token fires, then stops checks and logging. Safe to call twice.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }
        List<FrontendServer> frontends;
        lock (_frontends)
        {
            frontends = [.. _frontends.Values];
        }
        await Task.WhenAll(frontends.Select(f => f.StopAsync(cancellationToken))).ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _warming.ConfigureAwait(false);
        List<Task> retiring;
        lock (_retiring)
        {
            retiring = [.. _retiring];
        }
        await Task.WhenAll(retiring).ConfigureAwait(false);
        await _health.StopAsync().ConfigureAwait(false);
        await _accessLog.DisposeAsync().ConfigureAwait(false);
    }

    public StatusReport GetStatus()
    {
        var now = _time.GetTimestamp();
        var runtime = _runtime;
        List<FrontendStatus> frontends;
        lock (_frontends)
        {
            frontends = [.. _frontends.Values.Select(f => new FrontendStatus(f.Name, f.Config.Listen, f.Urls))];
        }
        var backends = runtime.Backends.Values.Select(b => new BackendStatus(
            b.Name,
            b.Config.Balance.ToString().ToLowerInvariant(),
            b.Servers.Count(s => s.IsAvailable(now)),
            [.. b.Servers.Select(s => ToStatus(s, now))])).ToList();
        return new StatusReport(IsReady, frontends, backends);
    }

    /// <summary>One server's status (as in <see cref="GetStatus"/>), without building the others'; null when there is no such server.</summary>
    public ServerStatus? GetServerStatus(string backend, string server) =>
        FindServer(backend, server) is { } runtime ? ToStatus(runtime, _time.GetTimestamp()) : null;

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
            check is null ? null : new CheckStatus(check.Success, check.Detail, check.Time, check.Duration.TotalMilliseconds),
            server.Suspicion.Since,
            server.HeldOutBy);
    }

    private FrontendServer CreateFrontend(FrontendConfig config, IReadOnlyList<VipConfig> vips) =>
        FrontendServer.Create(config, () => _runtime, _handler, _loggerFactory, onVip: ListensOnVip(config, vips));

    /// <summary>Whether the frontend's listen address is one of the configured VIPs' addresses.</summary>
    private static bool ListensOnVip(FrontendConfig frontend, IReadOnlyList<VipConfig> vips) =>
        HostPort.TryParse(frontend.Listen, out var listen, out _) && listen is { Address: { } address }
        && vips.Any(v => VipAddress.TryParse(v.Address, out var vip, out _) && vip!.Address.Equals(address));

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        foreach (var frontend in _frontends.Values)
        {
            await frontend.DisposeAsync().ConfigureAwait(false);
        }
        await _health.DisposeAsync().ConfigureAwait(false);
        _runtime.Dispose();
        _stopping.Dispose();
        _applyLock.Dispose();
    }

    private sealed class FrontendPlan
    {
        public List<(FrontendServer Server, FrontendConfig Config)> Keep { get; } = [];

        public List<FrontendServer> Start { get; } = [];

        public List<FrontendServer> Retire { get; } = [];
    }
}

internal static partial class DataPlaneLog
{
    [LoggerMessage(EventId = 1401, Level = LogLevel.Warning, Message = "access_log changed: the new setting takes effect when the node restarts")]
    public static partial void AccessLogNeedsRestart(ILogger logger);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Information, Message = "Forwarding path warmed on {Backend}/{Server} in {Milliseconds:0.0} ms: {Outcome}")]
    public static partial void Warmed(ILogger logger, string backend, string server, double milliseconds, string outcome);
}
