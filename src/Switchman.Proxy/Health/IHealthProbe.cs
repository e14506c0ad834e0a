using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Health;

/// <summary>Runs one active check against one server.</summary>
internal interface IHealthProbe
{
    /// <summary>
    /// Checks the server once. A probe reports what it judged (e.g. an unexpected status) as a result, and lets any
    /// failure to talk to the server escape as an exception: the checker turns every one of those into a failed check.
    /// </summary>
    Task<ProbeResult> ProbeAsync(ServerRuntime server, CancellationToken cancellationToken);
}
