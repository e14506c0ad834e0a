using Switchman.Core.Configuration;
using Switchman.Proxy.Routing;

namespace Switchman.Proxy.Runtime;

/// <summary>
/// Everything the data plane needs for one configuration: backends with their live server state, and each frontend's
/// route table. Built once per configuration snapshot; the request path reads it without locks.
/// </summary>
internal sealed class ProxyRuntime : IDisposable
{
    public ProxyRuntime(SwitchmanConfig config, TimeProvider time)
    {
        Config = config;
        var backends = new Dictionary<string, BackendRuntime>(StringComparer.Ordinal);
        foreach (var backend in config.Backends)
        {
            backends[backend.Name] = new BackendRuntime(backend, time);
        }
        Backends = backends;
        Routes = config.Frontends.ToDictionary(f => f.Name, f => new RouteTable(f, backends), StringComparer.Ordinal);
    }

    public SwitchmanConfig Config { get; }

    public IReadOnlyDictionary<string, BackendRuntime> Backends { get; }

    public IReadOnlyDictionary<string, RouteTable> Routes { get; }

    public void Dispose()
    {
        foreach (var backend in Backends.Values)
        {
            backend.Dispose();
        }
    }
}
