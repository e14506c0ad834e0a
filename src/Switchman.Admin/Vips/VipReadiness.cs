using System.Net;
using Switchman.Core.Configuration;
using Switchman.Proxy;

namespace Switchman.Admin.Vips;

/// <summary>
/// Whether this node's data plane can serve what clients send to a VIP (keepalived's <c>track_script</c>, built in): every
/// frontend listening on the VIP's address (or on all addresses) must be listening, and must have an available server
/// in at least one backend it routes to. A VIP no frontend listens on is served as far as the data plane goes. Pure.
/// </summary>
public static class VipReadiness
{
    /// <returns>Why this node cannot serve <paramref name="vip"/> now; null when it can.</returns>
    public static string? WhyNot(VipConfig vip, SwitchmanConfig config, StatusReport status)
    {
        ArgumentNullException.ThrowIfNull(vip);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(status);
        if (!VipAddress.TryParse(vip.Address, out var address, out _))
        {
            return null;
        }
        foreach (var frontend in config.Frontends.Where(f => ListensOn(f, address!.Address)))
        {
            if (status.Frontends.FirstOrDefault(f => f.Name == frontend.Name) is not { Urls.Count: > 0 })
            {
                return $"frontend {frontend.Name} is not listening";
            }
            var backends = frontend.Routes.Select(r => r.Backend).Append(frontend.DefaultBackend).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
            if (backends.Count > 0 && !backends.Any(b => status.Backends.FirstOrDefault(s => s.Name == b) is { AvailableServers: > 0 }))
            {
                return $"frontend {frontend.Name} has no available server (backends: {string.Join(", ", backends)})";
            }
        }
        return null;
    }

    private static bool ListensOn(FrontendConfig frontend, IPAddress vip) =>
        HostPort.TryParse(frontend.Listen, out var listen, out _)
        && (listen.Value.Address is not { } address || address.Equals(vip) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any));
}
