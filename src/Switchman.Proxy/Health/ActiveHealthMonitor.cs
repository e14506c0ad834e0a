using Switchman.Core.Configuration;
using Switchman.Proxy.Diagnostics;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Health;

/// <summary>
/// Owns the active-check loops of every server that has a health check: starts them, reports when the first round
/// is done (readiness), follows configuration changes (a new server gets a loop, a removed one loses it, an unchanged
/// one keeps its loop and its rise/fall streak), and stops them all — safely, more than once.
/// </summary>
internal sealed class ActiveHealthMonitor : IAsyncDisposable
{
    private readonly Dictionary<ServerRuntime, RunningCheck> _running = new(ReferenceEqualityComparer.Instance);
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly ProxyDiagnostics _diagnostics;
    private readonly Func<BackendRuntime, IHealthProbe>? _probeFactory;
    private readonly IReadOnlyList<BackendRuntime> _initial;
    private Task _firstRound = Task.CompletedTask;
    private bool _stopped;

    public ActiveHealthMonitor(IEnumerable<BackendRuntime> backends, TimeProvider time, ProxyDiagnostics diagnostics, Func<BackendRuntime, IHealthProbe>? probeFactory = null)
    {
        _initial = [.. backends];
        _time = time;
        _diagnostics = diagnostics;
        _probeFactory = probeFactory;
    }

    /// <summary>Completes when every server of the initial configuration has had its first probe: the node's readiness signal.</summary>
    public Task FirstRoundCompleted => _firstRound;

    /// <summary>Checks <paramref name="server"/> now rather than at the end of its interval (see <see cref="ServerHealthChecker.CheckSoon"/>).</summary>
    public void CheckSoon(ServerRuntime server)
    {
        lock (_lock)
        {
            if (_running.TryGetValue(server, out var check))
            {
                check.Checker.CheckSoon();
            }
        }
    }

    public void Start()
    {
        var started = ReconcileCore(_initial, out _);
        _firstRound = Task.WhenAll(started.Select(c => c.FirstCheckCompleted));
    }

    /// <summary>Brings the running loops in line with <paramref name="backends"/>; returns once removed loops have stopped.</summary>
    public Task ReconcileAsync(IEnumerable<BackendRuntime> backends)
    {
        ReconcileCore(backends, out var stopped);
        return Task.WhenAll(stopped);
    }

    private List<ServerHealthChecker> ReconcileCore(IEnumerable<BackendRuntime> backends, out List<Task> stopped)
    {
        var started = new List<ServerHealthChecker>();
        stopped = [];
        lock (_lock)
        {
            if (_stopped)
            {
                return started;
            }
            var wanted = new Dictionary<ServerRuntime, (BackendRuntime Backend, HealthCheckConfig Health)>(ReferenceEqualityComparer.Instance);
            foreach (var backend in backends)
            {
                if (backend.Config.Health is { } health)
                {
                    foreach (var server in backend.Servers)
                    {
                        wanted[server] = (backend, health);
                    }
                }
            }
            foreach (var (server, running) in _running.ToList())
            {
                if (!wanted.TryGetValue(server, out var want) || want.Health != running.Health || want.Backend.HttpClient != running.Client)
                {
                    stopped.Add(running.StopAsync());
                    _running.Remove(server);
                }
            }
            foreach (var (server, (backend, health)) in wanted)
            {
                if (_running.ContainsKey(server))
                {
                    continue;
                }
                var probe = _probeFactory?.Invoke(backend) ?? CreateProbe(health, backend);
                var checker = new ServerHealthChecker(server, health, probe, _time, _diagnostics);
                _running[server] = RunningCheck.Start(checker, health, backend.HttpClient);
                started.Add(checker);
            }
        }
        return started;
    }

    public async Task StopAsync()
    {
        List<RunningCheck> running;
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }
            _stopped = true;
            running = [.. _running.Values];
            _running.Clear();
        }
        await Task.WhenAll(running.Select(r => r.StopAsync())).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private static IHealthProbe CreateProbe(HealthCheckConfig health, BackendRuntime backend) => health.Type switch
    {
        HealthCheckType.Tcp => new TcpHealthProbe(),
        // Checks share the backend's connection pool and connect timeout: a check sees what traffic sees.
        _ => new HttpHealthProbe(health, backend.HttpClient),
    };

    /// <summary>One server's check loop and the means to stop it.</summary>
    private sealed class RunningCheck
    {
        private readonly CancellationTokenSource _stop;
        private readonly Task _loop;
        private int _stopping;

        private RunningCheck(ServerHealthChecker checker, HealthCheckConfig health, HttpMessageInvoker client, CancellationTokenSource stop, Task loop)
        {
            Checker = checker;
            Health = health;
            Client = client;
            _stop = stop;
            _loop = loop;
        }

        public ServerHealthChecker Checker { get; }

        public HealthCheckConfig Health { get; }

        public HttpMessageInvoker Client { get; }

        public static RunningCheck Start(ServerHealthChecker checker, HealthCheckConfig health, HttpMessageInvoker client)
        {
            var stop = new CancellationTokenSource();
            return new RunningCheck(checker, health, client, stop, checker.RunAsync(stop.Token));
        }

        /// <summary>Cancels the loop (and the probe in flight) and waits for it to end. Safe to call twice.</summary>
        public async Task StopAsync()
        {
            if (Interlocked.Exchange(ref _stopping, 1) == 1)
            {
                await _loop.ConfigureAwait(false);
                return;
            }
            await _stop.CancelAsync().ConfigureAwait(false);
            // The loop never faults (ServerHealthChecker.RunAsync ends only on this token), so a stop never throws.
            await _loop.ConfigureAwait(false);
            _stop.Dispose();
        }
    }
}
