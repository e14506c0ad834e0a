using System.Net.Http;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Switchman.Proxy.Forwarding;

/// <summary>How an attempt ended, in the terms the retry rules need.</summary>
internal enum AttemptResult
{
    /// <summary>The server answered and the answer went to the client.</summary>
    Answered,

    /// <summary>The server failed before any response byte reached the client: may be retried.</summary>
    FailedBeforeResponse,

    /// <summary>Failed after the response started, or the client went away: never retried.</summary>
    FailedFinally,
}

/// <summary>Classifies YARP's forwarding outcome: retryable or not, whether a connection was ever made, and a kind for metrics.</summary>
internal readonly record struct AttemptFailure(AttemptResult Result, string Kind, bool NeverConnected, bool CountsAgainstServer)
{
    public static readonly AttemptFailure None = new(AttemptResult.Answered, "", false, false);

    /// <param name="abandoned">The attempt was given up because its server fell silent (see <see cref="SilenceWatch"/>).</param>
    public static AttemptFailure Classify(ForwarderError error, HttpContext context, bool statusRetryRequested, bool abandoned = false)
    {
        if (abandoned)
        {
            return context.RequestAborted.IsCancellationRequested
                ? new AttemptFailure(AttemptResult.FailedFinally, "client-aborted", false, false)
                // Whether the request reached the server is unknown: only attempts that may be retried anyway are abandoned.
                : new AttemptFailure(AttemptResult.FailedBeforeResponse, "silent", NeverConnected: false, CountsAgainstServer: true);
        }
        if (error == ForwarderError.None)
        {
            return statusRetryRequested
                ? new AttemptFailure(AttemptResult.FailedBeforeResponse, "status", NeverConnected: false, CountsAgainstServer: true)
                : None;
        }

        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        switch (error)
        {
            case ForwarderError.Request:
            case ForwarderError.RequestTimedOut:
            case ForwarderError.ResponseHeaders:
            case ForwarderError.RequestBodyDestination:
                if (context.RequestAborted.IsCancellationRequested)
                {
                    return new AttemptFailure(AttemptResult.FailedFinally, "client-aborted", false, false);
                }
                var neverConnected = IsConnectFailure(exception);
                var kind = neverConnected ? "connect" : error == ForwarderError.RequestTimedOut ? "timeout" : "reset";
                return new AttemptFailure(
                    context.Response.HasStarted ? AttemptResult.FailedFinally : AttemptResult.FailedBeforeResponse,
                    kind, neverConnected, CountsAgainstServer: true);

            case ForwarderError.ResponseBodyDestination:
                return new AttemptFailure(AttemptResult.FailedFinally, "response-body", false, CountsAgainstServer: true);

            default:
                // Client-side trouble (aborted, bad body) or upgrade failures: not the server's fault, never retried.
                return new AttemptFailure(AttemptResult.FailedFinally, error.ToString(), false, CountsAgainstServer: false);
        }
    }

    /// <summary>True when no TCP connection to the server was established, so nothing of the request was sent.</summary>
    private static bool IsConnectFailure(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError })
            {
                return true;
            }
            if (e is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable })
            {
                return true;
            }
        }
        return false;
    }
}
