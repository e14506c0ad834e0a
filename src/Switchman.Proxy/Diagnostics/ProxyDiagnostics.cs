using Microsoft.Extensions.Logging;
using Switchman.Proxy.Health;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Diagnostics;

/// <summary>
/// One place where data-plane happenings become logs, metrics and events, so that each is reported the same way
/// wherever it is detected.
/// </summary>
internal sealed class ProxyDiagnostics
{
    public ProxyDiagnostics(ILogger logger, ProxyMetrics metrics)
    {
        Logger = logger;
        Metrics = metrics;
    }

    public ILogger Logger { get; }

    public ProxyMetrics Metrics { get; }

    /// <summary>Raised after a server's health changed (active checks). Handlers must be quick and must not throw.</summary>
    public event Action<ServerHealthChange>? HealthChanged;

    /// <summary>
    /// One active check finished. Every check is counted by result; a failed one is logged with its reason — at
    /// Information while it is news (the server was up), at Debug while it only confirms a server already down.
    /// </summary>
    /// <param name="progress">Where the failure leaves the server, e.g. "2/3 toward DOWN".</param>
    public void HealthChecked(ServerRuntime server, ProbeResult result, bool wasUp, string progress)
    {
        // The checker records the check on the server just before: its duration is there.
        Metrics.HealthCheck(server, result.ResultLabel, server.LastCheck?.Duration);
        if (!result.Success)
        {
            ProxyLog.HealthCheckFailed(Logger, wasUp ? LogLevel.Information : LogLevel.Debug,
                server.BackendName, server.Name, result.ResultLabel, result.Detail, progress);
        }
    }

    public void ServerHealthChanged(ServerRuntime server, bool up, string detail)
    {
        if (up)
        {
            ProxyLog.ServerUp(Logger, server.BackendName, server.Name, detail);
        }
        else
        {
            ProxyLog.ServerDown(Logger, server.BackendName, server.Name, detail);
        }
        Metrics.HealthTransition(server, up);
        HealthChanged?.Invoke(new ServerHealthChange(server.BackendName, server.Name, up, detail));
    }
}
