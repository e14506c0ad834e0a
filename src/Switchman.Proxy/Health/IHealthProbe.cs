using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Health;

/// <summary>Runs one active check against one server.</summary>
internal interface IHealthProbe
{
    /// <returns>Success, and a short detail for status and events (e.g. "HTTP 503", "connection refused").</returns>
    Task<(bool Success, string Detail)> ProbeAsync(ServerRuntime server, CancellationToken cancellationToken);
}
