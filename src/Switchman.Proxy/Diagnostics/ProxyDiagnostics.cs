using Microsoft.Extensions.Logging;
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
