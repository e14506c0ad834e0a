using Switchman.Proxy.Diagnostics;

namespace Switchman.Proxy.Health;

/// <summary>The outcome of one check: healthy, or why not.</summary>
/// <param name="Detail">Short, one line, for status and events (e.g. "HTTP 200", "connection refused").</param>
/// <param name="Reason">Why the check failed; null when it succeeded.</param>
internal readonly record struct ProbeResult(bool Success, string Detail, FailureReason? Reason)
{
    public static ProbeResult Healthy(string detail) => new(true, detail, null);

    public static ProbeResult Failed(FailureReason reason, string detail) => new(false, detail, reason);

    /// <summary>The metric label: "ok", or the failure reason's label.</summary>
    public string ResultLabel => Reason is { } reason ? reason.Label() : "ok";
}
