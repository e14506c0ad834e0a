using Microsoft.Extensions.Logging;

namespace Switchman.Admin;

/// <summary>
/// The node's logging policy for the libraries it is built on. Switchman's own categories (<c>Switchman.*</c>) log at
/// the node's level, Information by default; the libraries' are held back where our own events already say, once and
/// in one line, what they would say per request or per peer with a stack trace. docs/logging.md lists the categories.
/// </summary>
public static class NodeLogging
{
    private const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    /// <summary>Filters applied to every node, after any logging set up by the caller. Frontends log through the same factory.</summary>
    public static void ApplyLibraryFilters(ILoggingBuilder logging)
    {
        ArgumentNullException.ThrowIfNull(logging);
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        // The host logs a service that failed to start (event 11) and a background service that failed (event 9) at
        // Error, always with the stack trace. A start-up failure is logged by NodeHost instead (2201: one line when it
        // is the operator's to fix, such as a port in use); a failed background service is logged again at Critical
        // (event 10) with its exception, so nothing is lost.
        logging.AddFilter(HostCategory, level => level >= LogLevel.Warning && level != LogLevel.Error);
        // Kestrel logs each connection refused past the admin listener's limit as a warning (event 24): a flood of
        // connections would be a flood of lines. RefusedConnectionsReport says it once, then a sum per minute (3003, 3004).
        logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel.Connections", LogLevel.Error);
        logging.AddFilter("Yarp", LogLevel.Warning);
        // YARP's forwarder logs every failed attempt at Warning with the exception's stack trace (~2 KB), also the ones
        // we retry and serve: 1 MB in 40 s with one black-holed server. Our attempt events (1201 retried, 1202 not
        // retried) name the server, the reason and the cause in one line; the metrics count every failed attempt.
        logging.AddFilter("Yarp.ReverseProxy.Forwarder", LogLevel.Error);
        // DotNext logs every failed request to an unreachable peer as a warning with a stack trace; the cluster's own
        // events and logs (member_unreachable, leader changes) say the same once.
        logging.AddFilter("DotNext", LogLevel.Error);
    }
}
