using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Switchman.Admin;

/// <summary>
/// What the admin listener takes from a client, so that no client — mistaken, slow or hostile — holds the node's
/// memory or connections for long; none of them is near what a correct client sends or takes. Kestrel enforces the
/// headers, timeouts and connections, and reads no request body over <see cref="MaxNodeToNodeBytes"/>; each endpoint
/// that takes a body reads it up to its own limit (<see cref="Api.RequestBody"/>). docs/admin-api.md ("Limits") lists
/// each limit with what a client sees.
/// </summary>
public static class AdminListenerLimits
{
    /// <summary>The JSON body of an API call: a few hundred bytes.</summary>
    public const long MaxJsonBodyBytes = 64 * 1024;

    /// <summary>
    /// A configuration (<c>PUT /api/v1/config</c>), YAML or JSON: 1,000 backends of 20 servers each, with health checks
    /// and routes, measure 2.1 MB as YAML and 2.9 MB as JSON (what <c>GET /api/v1/config</c> answers with JSON).
    /// </summary>
    public const long MaxConfigBytes = 4 * 1024 * 1024;

    /// <summary>
    /// A node-to-node call (<c>/_cluster/…</c>): a change forwarded to the leader carries a whole configuration as YAML
    /// in a JSON string, which escaping makes a little larger (1.9 MB for the configuration above). Also Kestrel's limit
    /// for any request: it reads no more of a body, also of one that no handler reads (a request refused with 401 or 413
    /// has its body read and dropped, up to this, so that the client, still sending, reads the answer).
    /// </summary>
    public const long MaxNodeToNodeBytes = 2 * MaxConfigBytes;

    /// <summary>Every request header together (Kestrel's default): a token is under a hundred bytes.</summary>
    public const int MaxRequestHeadersTotalBytes = 32 * 1024;

    /// <summary>Request headers (Kestrel's default).</summary>
    public const int MaxRequestHeaderCount = 100;

    /// <summary>The request line: method, path and query string (Kestrel's default).</summary>
    public const int MaxRequestLineBytes = 8 * 1024;

    /// <summary>From a connection's first byte (or the end of its last request) to the end of the request's headers (Kestrel: 30 s).</summary>
    public static readonly TimeSpan RequestHeadersTimeout = TimeSpan.FromSeconds(10);

    /// <summary>An idle kept-alive connection is closed after this (Kestrel: 130 s); a response that takes long (an event stream, a rolling restart) is not idle.</summary>
    public static readonly TimeSpan KeepAliveTimeout = TimeSpan.FromSeconds(60);

    /// <summary>A body that trickles slower than this, after <see cref="MinRequestBodyDataRateGrace"/>, ends its connection (Kestrel: 240 bytes/s).</summary>
    public const double MinRequestBodyBytesPerSecond = 1024;

    public static readonly TimeSpan MinRequestBodyDataRateGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Open connections (Kestrel: no limit): far above what operators, dashboards, scrapers and peers open, and low enough
    /// that a flood of connections cannot take the file descriptors and memory the data plane needs.
    /// </summary>
    public const long MaxConcurrentConnections = 1000;

    public static void Apply(KestrelServerLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        limits.MaxRequestBodySize = MaxNodeToNodeBytes;
        limits.MaxRequestHeadersTotalSize = MaxRequestHeadersTotalBytes;
        limits.MaxRequestHeaderCount = MaxRequestHeaderCount;
        limits.MaxRequestLineSize = MaxRequestLineBytes;
        limits.RequestHeadersTimeout = RequestHeadersTimeout;
        limits.KeepAliveTimeout = KeepAliveTimeout;
        limits.MinRequestBodyDataRate = new MinDataRate(MinRequestBodyBytesPerSecond, MinRequestBodyDataRateGrace);
        limits.MaxConcurrentConnections = MaxConcurrentConnections;
    }
}
