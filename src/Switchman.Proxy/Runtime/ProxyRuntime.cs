using Switchman.Core.Configuration;
using Switchman.Proxy.Diagnostics;
using Switchman.Proxy.Routing;

namespace Switchman.Proxy.Runtime;

/// <summary>
/// Everything the data plane needs for one configuration: backends with their live server state, and each frontend's
/// route table. Built once per configuration snapshot; the request path reads it without locks.
/// </summary>
internal sealed class ProxyRuntime : IDisposable
{
    /// <param name="previous">The runtime this one replaces: unchanged backends are taken over whole, changed ones keep
    /// the live state of their unchanged servers.</param>
    /// <param name="diagnostics">Where connect events are reported; null: nowhere (tests).</param>
    public ProxyRuntime(SwitchmanConfig config, TimeProvider time, ProxyRuntime? previous = null, ProxyDiagnostics? diagnostics = null)
    {
        Config = config;
        var backends = new Dictionary<string, BackendRuntime>(StringComparer.Ordinal);
        foreach (var backend in config.Backends)
        {
            var old = previous?.Backends.GetValueOrDefault(backend.Name);
            backends[backend.Name] = old is not null && old.Config == backend ? old : new BackendRuntime(backend, time, old, diagnostics);
        }
        Backends = backends;
        Routes = config.Frontends.ToDictionary(f => f.Name, f => new RouteTable(f, backends), StringComparer.Ordinal);
    }

    public SwitchmanConfig Config { get; }

    public IReadOnlyDictionary<string, BackendRuntime> Backends { get; }

    public IReadOnlyDictionary<string, RouteTable> Routes { get; }

    /// <summary>Called when this runtime goes live: its backends take over their connection pools.</summary>
    public void Activate()
    {
        foreach (var backend in Backends.Values)
        {
            backend.Activate();
        }
    }

    /// <summary>The backends of this runtime that <paramref name="next"/> no longer uses (removed or replaced).</summary>
    public IEnumerable<BackendRuntime> BackendsDroppedBy(ProxyRuntime next) =>
        Backends.Values.Where(b => !next.Backends.Values.Contains(b));

    /// <summary>Disposes every backend; only for the last runtime, at shutdown (replaced ones are retired one by one).</summary>
    public void Dispose()
    {
        foreach (var backend in Backends.Values)
        {
            backend.Dispose();
        }
    }
}
