using Switchman.Core.Configuration;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Routing;

/// <summary>
/// A frontend's routes, tried in order: host (exact or *.suffix, case-insensitive) then path prefix on segment
/// boundaries. The first match wins; otherwise the default backend, otherwise nothing (404).
/// </summary>
internal sealed class RouteTable
{
    private readonly Route[] _routes;
    private readonly BackendRuntime? _defaultBackend;

    public RouteTable(FrontendConfig frontend, IReadOnlyDictionary<string, BackendRuntime> backends)
    {
        _routes = [.. frontend.Routes.Select(r => new Route(r.Host, NormalisePrefix(r.Path), backends[r.Backend]))];
        _defaultBackend = frontend.DefaultBackend is null ? null : backends[frontend.DefaultBackend];
        ErrorPages = Forwarding.ErrorPages.Load(frontend.ErrorPages);
    }

    /// <summary>The bodies of the errors this frontend answers itself.</summary>
    public Forwarding.ErrorPages ErrorPages { get; }

    public BackendRuntime? Match(string host, string path)
    {
        foreach (var route in _routes)
        {
            if (route.Matches(host, path))
            {
                return route.Backend;
            }
        }
        return _defaultBackend;
    }

    private static string NormalisePrefix(string path) => path.Length > 1 ? path.TrimEnd('/') : path;

    private sealed record Route(string? Host, string PathPrefix, BackendRuntime Backend)
    {
        public bool Matches(string host, string path) => HostMatches(host) && PathMatches(path);

        private bool HostMatches(string host)
        {
            if (Host is null)
            {
                return true;
            }
            if (Host.StartsWith("*.", StringComparison.Ordinal))
            {
                // *.example.com matches a.example.com, not example.com itself.
                return host.Length > Host.Length - 1 && host.EndsWith(Host.AsSpan(1), StringComparison.OrdinalIgnoreCase);
            }
            return string.Equals(host, Host, StringComparison.OrdinalIgnoreCase);
        }

        private bool PathMatches(string path)
        {
            if (PathPrefix == "/")
            {
                return true;
            }
            return path.StartsWith(PathPrefix, StringComparison.OrdinalIgnoreCase)
                && (path.Length == PathPrefix.Length || path[PathPrefix.Length] == '/');
        }
    }
}
