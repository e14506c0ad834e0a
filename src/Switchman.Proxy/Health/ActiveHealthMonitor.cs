using Switchman.Core.Configuration;
using Switchman.Proxy.Diagnostics;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Health;

/// <summary>
/// Owns the active-check loops of every server that has a health check: starts them, reports when the first round
/// is done (readiness), and stops them — safely, more than once.
/// </summary>
internal sealed class ActiveHealthMonitor : IAsyncDisposable
{
    private readonly List<ServerHealthChecker> _checkers = [];
    private readonly List<Task> _loops = [];
    private readonly CancellationTokenSource _stopping = new();
    private int _stopped;

    public ActiveHealthMonitor(IEnumerable<BackendRuntime> backends, TimeProvider time, ProxyDiagnostics diagnostics, Func<BackendRuntime, IHealthProbe>? probeFactory = null)
    {
        foreach (var backend in backends)
        {
            if (backend.Config.Health is not { } health)
            {
                continue;
            }
            var probe = probeFactory?.Invoke(backend) ?? CreateProbe(health, backend);
            foreach (var server in backend.Servers)
            {
                _checkers.Add(new ServerHealthChecker(server, health, probe, time, diagnostics));
            }
        }
    }

    public IReadOnlyList<ServerHealthChecker> Checkers => _checkers;

    /// <summary>Completes when every server has had its first probe: the node's readiness signal.</summary>
    public Task FirstRoundCompleted => Task.WhenAll(_checkers.Select(c => c.FirstCheckCompleted));

    public void Start()
    {
        foreach (var checker in _checkers)
        {
            _loops.Add(checker.RunAsync(_stopping.Token));
        }
    }

    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private static IHealthProbe CreateProbe(HealthCheckConfig health, BackendRuntime backend) => health.Type switch
    {
        HealthCheckType.Tcp => new TcpHealthProbe(),
        // Checks share the backend's connection pool and connect timeout: a check sees what traffic sees.
        _ => new HttpHealthProbe(health, backend.HttpClient),
    };
}
