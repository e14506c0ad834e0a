using System.Net;
using Switchman.Proxy.Diagnostics;
using Switchman.Proxy.Forwarding;

namespace Switchman.Proxy.Runtime;

/// <summary>
/// The HTTP client (connection pool) of one backend, with the connector that opens its connections, shared by the
/// backend runtimes of successive configurations so that warm connections and what was learnt about each server survive
/// a reload: each holder releases it once, and the last release disposes it.
/// </summary>
internal sealed class SharedHttpClient
{
    private int _holders = 1;

    public SharedHttpClient(TimeProvider time, ProxyDiagnostics? diagnostics, ITcpDialer? dialer = null)
    {
        Connector = new BackendConnector(time, diagnostics, dialer);
        Invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            // The connector times connects itself (per server, adaptive, timeouts.connect as the ceiling): a timeout here
            // would surface as a cancellation rather than as a connection error, and cut its probes short.
            ConnectTimeout = Timeout.InfiniteTimeSpan,
            ConnectCallback = Connector.ConnectAsync,
            // Keep-alive to the servers, like HAProxy's http-reuse: idle connections are recycled before servers drop them.
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = null,
        }, disposeHandler: true);
    }

    public HttpMessageInvoker Invoker { get; }

    public BackendConnector Connector { get; }

    /// <summary>Adds a holder; returns this client.</summary>
    public SharedHttpClient Share()
    {
        Interlocked.Increment(ref _holders);
        return this;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _holders) == 0)
        {
            Connector.Dispose();
            Invoker.Dispose();
        }
    }
}
