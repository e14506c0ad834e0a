using Microsoft.Extensions.Logging;

namespace Switchman.Proxy.Diagnostics;

/// <summary>Source-generated log messages of the data plane. Event ids are stable: operators alert on them.</summary>
internal static partial class ProxyLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Frontend {Frontend} listening on {Url}")]
    public static partial void FrontendListening(ILogger logger, string frontend, string url);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Frontend {Frontend} stopped")]
    public static partial void FrontendStopped(ILogger logger, string frontend);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Server {Backend}/{Server} is DOWN: {Detail}")]
    public static partial void ServerDown(ILogger logger, string backend, string server, string detail);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Server {Backend}/{Server} is UP: {Detail}")]
    public static partial void ServerUp(ILogger logger, string backend, string server, string detail);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Server {Backend}/{Server} ejected for {EjectFor} after {Failures} consecutive failures")]
    public static partial void ServerEjected(ILogger logger, string backend, string server, TimeSpan ejectFor, int failures);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "Server {Backend}/{Server} reached {Failures} consecutive failures but is the last available server: not ejected")]
    public static partial void LastServerNotEjected(ILogger logger, string backend, string server, int failures);

    [LoggerMessage(EventId = 1105, Message = "Health check of {Backend}/{Server} failed ({Reason}): {Detail}; {Progress}")]
    public static partial void HealthCheckFailed(ILogger logger, LogLevel level, string backend, string server, string reason, string detail, string progress);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Error, Message = "Health check of {Backend}/{Server} could not apply its result; the checks go on")]
    public static partial void HealthCheckFault(ILogger logger, string backend, string server, Exception exception);

    // The attempt events stand in for the forwarding library's own per-request warnings (filtered out by the node):
    // one line each, no stack trace, with the cause (e.g. "connection refused", "connect timed out").
    [LoggerMessage(EventId = 1201, Level = LogLevel.Debug, Message = "Request {RequestId}: attempt {Attempt} on {Backend}/{Server} failed ({Kind}: {Cause}), retrying")]
    public static partial void AttemptRetried(ILogger logger, string requestId, int attempt, string backend, string server, string kind, string cause);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Warning, Message = "Request {RequestId}: attempt {Attempt} on {Backend}/{Server} failed ({Kind}: {Cause}), not retried: {Reason}")]
    public static partial void AttemptFailed(ILogger logger, string requestId, int attempt, string backend, string server, string kind, string cause, string reason);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Warning, Message = "Backend {Backend} has no available server")]
    public static partial void NoServerAvailable(ILogger logger, string backend);
}
