using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Switchman.Admin;

/// <summary>
/// Why a node did not start, logged once (event 2201). A port another process holds (the admin listener, a frontend,
/// <c>cluster.listen</c>), an address this host does not have or a port it may not open is the operator's to fix, not a
/// crash: one line, without a stack trace. Anything else that stops the start is a bug and keeps its exception. The
/// host's own "Hosting failed to start", which always carries the trace, is filtered out (<see cref="NodeLogging"/>).
/// </summary>
internal static partial class NodeStartLog
{
    public static void Failed(ILogger logger, Exception exception)
    {
        if (IsOperatorError(exception))
        {
            CouldNotStart(logger, exception.Message);
        }
        else
        {
            CouldNotStart(logger, exception, exception.Message);
        }
    }

    /// <summary>A socket that could not be bound (or a file not permitted) anywhere in the chain: Kestrel and the cluster transport wrap it.</summary>
    internal static bool IsOperatorError(Exception exception)
    {
        for (var cause = exception; cause is not null; cause = cause.InnerException)
        {
            if (cause is SocketException or UnauthorizedAccessException)
            {
                return true;
            }
        }
        return false;
    }

    [LoggerMessage(EventId = 2201, Level = LogLevel.Error, Message = "Could not start: {Reason}")]
    private static partial void CouldNotStart(ILogger logger, string reason);

    [LoggerMessage(EventId = 2201, Level = LogLevel.Error, Message = "Could not start: {Reason}")]
    private static partial void CouldNotStart(ILogger logger, Exception exception, string reason);
}
