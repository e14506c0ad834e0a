using Microsoft.Extensions.Logging;

namespace Switchman.Proxy.Forwarding;

/// <summary>Log messages about connecting to servers (event ids 15xx; stable: operators alert on them).</summary>
internal static partial class ConnectLog
{
    [LoggerMessage(EventId = 1501, Level = LogLevel.Warning, Message = "Server {Backend}/{Server} is suspect ({Cause}): {Detail}; new requests go to other servers")]
    public static partial void ServerSuspect(ILogger logger, string backend, string server, string cause, string detail);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Information, Message = "Server {Backend}/{Server} is no longer suspect: {Detail}")]
    public static partial void ServerNoLongerSuspect(ILogger logger, string backend, string server, string detail);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Debug, Message = "Probe connect to suspect server {Backend}/{Server} failed: {Detail}")]
    public static partial void ProbeFailed(ILogger logger, string backend, string server, string detail);
}
