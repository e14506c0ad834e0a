using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Switchman.Core.Configuration;
using Switchman.Proxy.Balancing;
using Switchman.Proxy.Diagnostics;
using Switchman.Proxy.Health;
using Switchman.Proxy.Routing;
using Switchman.Proxy.Runtime;
using Yarp.ReverseProxy.Forwarder;

namespace Switchman.Proxy.Forwarding;

/// <summary>
/// Forwards one client request: route to a backend, pick a server, forward with YARP, and — when the attempt failed
/// before any response byte reached the client — try again on a different server, within the retry rules:
/// any method when no connection was made, otherwise only idempotent methods with a replayable body.
/// </summary>
internal sealed class ProxyRequestHandler
{
    /// <summary>Retries are capped at 10 by validation, so 11 attempts fit the inline buffer.</summary>
    private const int MaxAttempts = 11;

    private readonly IHttpForwarder _forwarder;
    private readonly PassiveHealthPolicy _passive;
    private readonly ProxyDiagnostics _diagnostics;
    private readonly AccessLog _accessLog;
    private readonly TimeProvider _time;

    public ProxyRequestHandler(IHttpForwarder forwarder, PassiveHealthPolicy passive, ProxyDiagnostics diagnostics, AccessLog accessLog, TimeProvider time)
    {
        _forwarder = forwarder;
        _passive = passive;
        _diagnostics = diagnostics;
        _accessLog = accessLog;
        _time = time;
    }

    public async Task HandleAsync(HttpContext context, string frontend, RouteTable routes)
    {
        var started = _time.GetTimestamp();
        var request = context.Request;
        var counter = _accessLog.Enabled ? ResponseByteCounter.Attach(context) : null;
        var requestId = RequestIdOf(request);
        var backend = routes.Match(request.Host.Host, request.Path.Value ?? "/");
        if (backend is null)
        {
            await WriteErrorAsync(context, routes.ErrorPages, StatusCodes.Status404NotFound, "no route matches this host and path", requestId).ConfigureAwait(false);
            Complete(context, frontend, null, null, requestId, attempts: 0, started, counter);
            return;
        }

        var retry = backend.Config.Retry;
        var maxAttempts = Math.Min(1 + retry.Retries, MaxAttempts);
        using var body = maxAttempts > 1
            ? await RequestBodyReplay.PrepareAsync(context, retry.BufferBody, context.RequestAborted).ConfigureAwait(false)
            : RequestBodyReplay.NotBuffered;
        var idempotent = IsIdempotent(request.Method);
        var key = new BalancingKey(context.Connection.RemoteIpAddress, request.Path.Value ?? "/");
        var stickyCookie = backend.Config.Sticky is { } sticky ? request.Cookies[sticky.Cookie] : null;
        var transformer = new ExchangeTransformer(backend, requestId, stickyCookie);
        var tried = new TriedServers();

        var attempt = 0;
        ServerRuntime? server = null;
        SilenceWatch? silenceWatch = null;
        while (true)
        {
            var previous = server;
            server = backend.Pick(key, stickyCookie, tried[..attempt]);
            if (server is null)
            {
                ProxyLog.NoServerAvailable(_diagnostics.Logger, backend.Name);
                await WriteErrorAsync(context, routes.ErrorPages, StatusCodes.Status503ServiceUnavailable, $"backend '{backend.Name}' has no available server", requestId).ConfigureAwait(false);
                break;
            }
            if (previous is not null)
            {
                _diagnostics.Metrics.Retry(previous, redispatched: !ReferenceEquals(previous, server));
            }
            tried[attempt++] = server;

            var remaining = backend.Config.Timeouts.Total - _time.GetElapsedTime(started);
            var lastAttempt = attempt >= maxAttempts || remaining <= TimeSpan.Zero;
            // An attempt that could be sent again may be retried on a status, and given up when its server falls silent.
            var resendable = !lastAttempt && idempotent && body.IsReplayable;
            var watch = resendable ? silenceWatch ??= SilenceWatch.Rent() : null;
            transformer.BeginAttempt(server, mayRetryOnStatus: resendable, lastAttempt, watch);
            body.Rewind();

            var (error, abandoned) = await ForwardAsync(context, backend, server, transformer, remaining, watch).ConfigureAwait(false);
            var failure = AttemptFailure.Classify(error, context, transformer.StatusRetryRequested, abandoned);
            if (failure.Result == AttemptResult.Answered)
            {
                if (context.Response.StatusCode >= 500)
                {
                    _passive.RecordFailure(backend, server);
                }
                else
                {
                    _passive.RecordSuccess(backend, server);
                }
                break;
            }

            if (failure.CountsAgainstServer)
            {
                _diagnostics.Metrics.ServerFailure(server, failure.Kind);
                _passive.RecordFailure(backend, server);
            }
            var refusal = WhyNotRetry(failure, lastAttempt, idempotent, body, context);
            if (refusal is not null)
            {
                ProxyLog.AttemptFailed(_diagnostics.Logger, requestId, attempt, backend.Name, server.Name, failure.Kind, FailureReasons.DescribeAttempt(context), refusal);
                if (failure.Kind == "status")
                {
                    await WriteErrorAsync(context, routes.ErrorPages, StatusCodes.Status503ServiceUnavailable, "every attempt got a retryable error status", requestId).ConfigureAwait(false);
                }
                else if (!context.Response.HasStarted)
                {
                    await WriteErrorAsync(context, routes.ErrorPages, context.Response.StatusCode is >= 500 ? context.Response.StatusCode : StatusCodes.Status502BadGateway,
                        $"server {backend.Name}/{server.Name} failed ({failure.Kind})", requestId).ConfigureAwait(false);
                }
                break;
            }

            ProxyLog.AttemptRetried(_diagnostics.Logger, requestId, attempt, backend.Name, server.Name, failure.Kind, FailureReasons.DescribeAttempt(context));
            ResetResponse(context);
        }

        // Not in a finally: a watch that an exception strands is simply left to the garbage collector.
        if (silenceWatch is not null)
        {
            SilenceWatch.Return(silenceWatch);
        }
        Complete(context, frontend, backend, server, requestId, attempt, started, counter);
    }

    /// <summary>
    /// Runs the forwarding path once without a client: <paramref name="method"/> (GET or HEAD) of <paramref name="path"/> to <paramref name="server"/>
    /// through YARP, this handler's header rules and the backend's connection pool, the answer thrown away. A node that
    /// has not proxied yet (a standby about to take a VIP, a node just started) then serves its first client without
    /// compiling that path or opening that connection first (~25 ms here). Not counted or logged as a request.
    /// </summary>
    /// <returns>The server's status, or the forwarding error.</returns>
    public async Task<string> WarmAsync(BackendRuntime backend, ServerRuntime server, string method, string path, string? host, CancellationToken cancellationToken)
    {
        var context = new DefaultHttpContext { RequestAborted = cancellationToken };
        context.Request.Method = method;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString(host ?? server.Address.ToString());
        var query = path.IndexOf('?', StringComparison.Ordinal);
        context.Request.Path = query < 0 ? path : path[..query];
        context.Request.QueryString = query < 0 ? QueryString.Empty : new QueryString(path[query..]);
        context.Response.Body = Stream.Null;
        var transformer = new ExchangeTransformer(backend, RequestIds.Next(), stickyServerFromClient: null);
        transformer.BeginAttempt(server, mayRetryOnStatus: false, lastAttempt: true, silenceWatch: null);
        var error = await _forwarder.SendAsync(context, server.DestinationPrefix, backend.HttpClient, backend.ForwarderConfig, transformer, cancellationToken)
            .ConfigureAwait(false);
        return error == ForwarderError.None ? $"HTTP {context.Response.StatusCode}" : $"{error}";
    }

    /// <returns>YARP's outcome, and whether the attempt was abandoned because its server fell silent.</returns>
    private async ValueTask<(ForwarderError Error, bool Abandoned)> ForwardAsync(
        HttpContext context, BackendRuntime backend, ServerRuntime server, ExchangeTransformer transformer, TimeSpan remaining, SilenceWatch? watch)
    {
        var config = backend.ForwarderConfig;
        if (remaining < config.ActivityTimeout && remaining > TimeSpan.Zero)
        {
            config = config with { ActivityTimeout = remaining };
        }
        server.BeginRequest();
        backend.BeginRequest();
        var abandon = watch?.Begin(backend, server, backend.ConnectDeadline(server), _time) ?? CancellationToken.None;
        ForwarderError error;
        bool abandoned;
        try
        {
            error = await _forwarder.SendAsync(context, server.DestinationPrefix, backend.HttpClient, config, transformer, abandon).ConfigureAwait(false);
        }
        finally
        {
            abandoned = watch?.End() ?? false;
            server.EndRequest();
            backend.EndRequest();
        }
        return (error, abandoned);
    }

    /// <returns>Null when the failed attempt may be retried, otherwise the reason it may not.</returns>
    private static string? WhyNotRetry(AttemptFailure failure, bool lastAttempt, bool idempotent, RequestBodyReplay body, HttpContext context)
    {
        if (failure.Result == AttemptResult.FailedFinally)
        {
            return context.Response.HasStarted ? "response already started" : "not a server failure";
        }
        if (lastAttempt)
        {
            return "no attempt left";
        }
        if (context.RequestAborted.IsCancellationRequested)
        {
            return "client went away";
        }
        if (failure.NeverConnected)
        {
            // Nothing was sent, so even a streamed body is intact and any method is safe to send again.
            return null;
        }
        if (!idempotent)
        {
            return $"{context.Request.Method} is not idempotent and the request reached the server";
        }
        return body.IsReplayable ? null : "request body too large to replay";
    }

    private static void ResetResponse(HttpContext context)
    {
        context.Response.Clear();
        context.Features.Set<IForwarderErrorFeature>(null);
    }

    private void Complete(HttpContext context, string frontend, BackendRuntime? backend, ServerRuntime? server, string requestId, int attempts, long started, ResponseByteCounter? counter)
    {
        var duration = _time.GetElapsedTime(started);
        var status = context.Response.StatusCode;
        _diagnostics.Metrics.RequestCompleted(frontend, backend?.Name ?? "", server?.Name ?? "", status, duration);
        if (_accessLog.Enabled)
        {
            _accessLog.Write(new AccessLogEntry(
                _time.GetUtcNow(), context.Connection.RemoteIpAddress?.ToString() ?? "", frontend, backend?.Name, server?.Name,
                context.Request.Method, context.Request.Path.Value ?? "/", context.Request.QueryString.Value ?? "", status, counter?.BytesWritten ?? 0, duration, attempts, requestId,
                context.Items.TryGetValue(ReasonKey, out var reason) ? reason as string : null));
        }
    }

    private static string RequestIdOf(HttpRequest request)
    {
        var incoming = request.Headers[ExchangeTransformer.RequestIdHeader];
        return incoming.Count == 1 && incoming[0] is { Length: > 0 and <= 200 } id ? id : RequestIds.Next();
    }

    /// <summary>A request reached a frontend that a reload removed and that is finishing its last requests.</summary>
    public static Task FrontendRetiringAsync(HttpContext context) =>
        WriteErrorAsync(context, ErrorPages.None, StatusCodes.Status503ServiceUnavailable, "this frontend is being removed", RequestIdOf(context.Request));

    private static bool IsIdempotent(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)
        || HttpMethods.IsPut(method) || HttpMethods.IsDelete(method) || HttpMethods.IsTrace(method);

    /// <summary>
    /// Answers an error of the proxy's own: the body says only the status and the request id (or is the operator's page);
    /// <paramref name="reason"/>, which may name backends and servers, goes to the access log, not to the client.
    /// </summary>
    private static async Task WriteErrorAsync(HttpContext context, ErrorPages pages, int status, string reason, string requestId)
    {
        context.Items[ReasonKey] = reason;
        if (context.Response.HasStarted)
        {
            return;
        }
        context.Response.Clear();
        context.Response.StatusCode = status;
        context.Response.Headers[ExchangeTransformer.RequestIdHeader] = requestId;
        var (body, contentType) = pages.Render(status, requestId);
        context.Response.ContentType = contentType;
        await context.Response.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Where an error's reason waits for the access log line of its request.</summary>
    private static readonly object ReasonKey = new();

    [InlineArray(MaxAttempts)]
    private struct TriedServers
    {
        private ServerRuntime? _first;
    }
}
