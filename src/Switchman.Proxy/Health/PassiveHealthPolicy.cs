using Switchman.Core.Configuration;
using Switchman.Proxy.Diagnostics;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Health;

/// <summary>
/// Outlier ejection from live traffic: <c>consecutive_failures</c> transport failures or 5xx responses in a row take a
/// server out for <c>eject_for</c>. The last available server of a backend is never ejected — a struggling server
/// beats none.
/// </summary>
internal sealed class PassiveHealthPolicy
{
    private readonly TimeProvider _time;
    private readonly ProxyDiagnostics _diagnostics;

    public PassiveHealthPolicy(TimeProvider time, ProxyDiagnostics diagnostics)
    {
        _time = time;
        _diagnostics = diagnostics;
    }

    public void RecordSuccess(BackendRuntime backend, ServerRuntime server)
    {
        if (backend.Config.Passive is not null)
        {
            server.RecordPassiveSuccess();
        }
    }

    public void RecordFailure(BackendRuntime backend, ServerRuntime server)
    {
        if (backend.Config.Passive is not { } passive)
        {
            return;
        }
        var failures = server.RecordPassiveFailure();
        if (failures < passive.ConsecutiveFailures)
        {
            return;
        }
        var now = _time.GetTimestamp();
        if (!HasOtherAvailableServer(backend, server, now))
        {
            ProxyLog.LastServerNotEjected(_diagnostics.Logger, backend.Name, server.Name, failures);
            return;
        }
        server.Eject(now + (long)(passive.EjectFor.TotalSeconds * _time.TimestampFrequency));
        ProxyLog.ServerEjected(_diagnostics.Logger, backend.Name, server.Name, passive.EjectFor, failures);
        _diagnostics.Metrics.Ejected(server);
    }

    private static bool HasOtherAvailableServer(BackendRuntime backend, ServerRuntime server, long now)
    {
        foreach (var other in backend.Servers)
        {
            if (!ReferenceEquals(other, server) && other.IsAvailable(now))
            {
                return true;
            }
        }
        return false;
    }
}
