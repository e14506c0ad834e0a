using System.Net.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Switchman.Proxy.Runtime;
using Yarp.ReverseProxy.Forwarder;

namespace Switchman.Proxy.Forwarding;

/// <summary>
/// The header rules of one proxied request, created per request because it carries that request's state:
/// X-Forwarded-For/Proto/Host, X-Request-Id, the original Host header (kept, as HAProxy does), the sticky cookie, and
/// whether a retryable status (e.g. 503) should be swallowed so the request can be tried on another server.
/// </summary>
internal sealed class ExchangeTransformer : HttpTransformer
{
    private const string ForwardedFor = "X-Forwarded-For";
    private const string ForwardedProto = "X-Forwarded-Proto";
    private const string ForwardedHost = "X-Forwarded-Host";
    public const string RequestIdHeader = "X-Request-Id";

    private readonly BackendRuntime _backend;

    public ExchangeTransformer(BackendRuntime backend, string requestId, string? stickyServerFromClient)
    {
        _backend = backend;
        RequestId = requestId;
        StickyServerFromClient = stickyServerFromClient;
    }

    public string RequestId { get; }

    public string? StickyServerFromClient { get; }

    /// <summary>The server of the current attempt.</summary>
    public ServerRuntime? Server { get; private set; }

    /// <summary>Whether the current attempt may be retried if the server answers one of the backend's retry statuses.</summary>
    public bool MayRetryOnStatus { get; private set; }

    /// <summary>Set when the current attempt's answer was a retry status and was not passed to the client.</summary>
    public bool StatusRetryRequested { get; private set; }

    /// <summary>The current attempt is the request's last: it cannot move to another server while its connect is slow.</summary>
    private bool _lastAttempt;

    /// <summary>Watches the current attempt for its server falling silent; null when the attempt is not watched.</summary>
    private SilenceWatch? _silenceWatch;

    public void BeginAttempt(ServerRuntime server, bool mayRetryOnStatus, bool lastAttempt, SilenceWatch? silenceWatch)
    {
        Server = server;
        MayRetryOnStatus = mayRetryOnStatus;
        StatusRetryRequested = false;
        _lastAttempt = lastAttempt;
        _silenceWatch = silenceWatch;
    }

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
        var request = httpContext.Request;
        var headers = proxyRequest.Headers;

        // REST services build links from Host; keep the client's, like HAProxy.
        if (request.Host.HasValue)
        {
            headers.Host = request.Host.Value;
        }

        var clientAddress = httpContext.Connection.RemoteIpAddress?.ToString();
        if (clientAddress is not null)
        {
            var existing = request.Headers[ForwardedFor];
            headers.Remove(ForwardedFor);
            headers.TryAddWithoutValidation(ForwardedFor, existing.Count == 0 ? clientAddress : $"{existing}, {clientAddress}");
        }
        headers.Remove(ForwardedProto);
        headers.TryAddWithoutValidation(ForwardedProto, request.Scheme);
        headers.Remove(ForwardedHost);
        if (request.Host.HasValue)
        {
            headers.TryAddWithoutValidation(ForwardedHost, request.Host.Value);
        }
        headers.Remove(RequestIdHeader);
        headers.TryAddWithoutValidation(RequestIdHeader, RequestId);
        if (_lastAttempt)
        {
            proxyRequest.Options.Set(ConnectIntent.WaitForConnect, true);
        }
    }

    public override ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is not null)
        {
            Server?.RecordSignOfLife();
            if (_silenceWatch is not null && !_silenceWatch.ResponseArrived())
            {
                // Given up a moment ago because the server fell silent: the request goes to another server instead.
                return ValueTask.FromResult(false);
            }
        }
        if (proxyResponse is not null && MayRetryOnStatus && _backend.RetryOnStatus.Contains((int)proxyResponse.StatusCode))
        {
            // Drop this answer: the proxy will try another server and the client never sees it.
            StatusRetryRequested = true;
            return ValueTask.FromResult(false);
        }
        return TransformAndDecorateAsync(httpContext, proxyResponse, cancellationToken);
    }

    private async ValueTask<bool> TransformAndDecorateAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        var copyBody = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken).ConfigureAwait(false);
        var response = httpContext.Response;
        response.Headers[RequestIdHeader] = RequestId;
        if (_backend.Config.Sticky is { } sticky && Server is not null && StickyServerFromClient != Server.Name)
        {
            response.Headers.Append(HeaderNames.SetCookie,
                new SetCookieHeaderValue(sticky.Cookie, Server.Name) { Path = "/", HttpOnly = true }.ToString());
        }
        return copyBody;
    }
}
