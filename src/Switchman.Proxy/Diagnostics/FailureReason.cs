using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Switchman.Proxy.Diagnostics;

/// <summary>Why talking to a server failed: one vocabulary for health checks, logs and metrics.</summary>
internal enum FailureReason
{
    /// <summary>The server answered, with a status that does not count as healthy.</summary>
    Status,

    /// <summary>The server answered with a healthy status, but its body does not match the check's expectation.</summary>
    Body,

    /// <summary>The whole exchange took longer than allowed (a check's timeout).</summary>
    Timeout,

    /// <summary>No TCP connection within the connect timeout: a powered-off or black-holed host.</summary>
    ConnectTimeout,

    /// <summary>The host said no one listens on the port (RST to the SYN).</summary>
    Refused,

    /// <summary>An established connection was reset or closed before the answer was complete.</summary>
    Reset,

    /// <summary>No route to the host or its network.</summary>
    Unreachable,

    /// <summary>The server's host name did not resolve.</summary>
    NameResolution,

    /// <summary>The server answered something that is not valid HTTP.</summary>
    Protocol,

    /// <summary>Anything else; the detail names the exception.</summary>
    Error,
}

/// <summary>Turns failures into a <see cref="FailureReason"/> and a one-line detail: never a stack trace.</summary>
internal static class FailureReasons
{
    /// <summary>The reason as a metric label and log word, e.g. <c>connect_timeout</c>.</summary>
    public static string Label(this FailureReason reason) => reason switch
    {
        FailureReason.Status => "status",
        FailureReason.Body => "body",
        FailureReason.Timeout => "timeout",
        FailureReason.ConnectTimeout => "connect_timeout",
        FailureReason.Refused => "refused",
        FailureReason.Reset => "reset",
        FailureReason.Unreachable => "unreachable",
        FailureReason.NameResolution => "name_resolution",
        FailureReason.Protocol => "protocol",
        _ => "error",
    };

    /// <summary>Classifies an exception thrown while talking to a server (connecting, sending, reading the answer).</summary>
    public static (FailureReason Reason, string Detail) Classify(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        // The socket error, when there is one, is the most precise account: look for it first, however deeply wrapped.
        // An aborted operation is only the echo of a cancellation, whose cause lies elsewhere in the chain.
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket && socket.SocketErrorCode != SocketError.OperationAborted)
            {
                return FromSocket(socket);
            }
        }
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                // SocketsHttpHandler reports its ConnectTimeout as a cancellation wrapping a TimeoutException. We send
                // through HttpMessageInvoker, which has no overall timeout of its own, so that shape means the connect.
                case OperationCanceledException { InnerException: TimeoutException }:
                    return (FailureReason.ConnectTimeout, "connect timed out");
                // Our connector's own verdict (the server's connect deadline, or timeouts.connect), which the pool
                // wraps in an HttpRequestException: nothing was sent.
                case Forwarding.ConnectDeadlineExceededException:
                    return (FailureReason.ConnectTimeout, "connect timed out");
                case HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError }:
                    return (FailureReason.NameResolution, $"name resolution failed: {OneLine(e.Message)}");
                case HttpRequestException { HttpRequestError: HttpRequestError.ResponseEnded }:
                    return (FailureReason.Reset, "connection closed before the response was complete");
                case HttpRequestException { HttpRequestError: HttpRequestError.InvalidResponse or HttpRequestError.HttpProtocolError }:
                    return (FailureReason.Protocol, $"invalid response: {OneLine(e.Message)}");
                case HttpIOException { HttpRequestError: HttpRequestError.ResponseEnded }:
                    return (FailureReason.Reset, "connection closed before the response was complete");
                case HttpIOException { HttpRequestError: HttpRequestError.InvalidResponse or HttpRequestError.HttpProtocolError }:
                    return (FailureReason.Protocol, $"invalid response: {OneLine(e.Message)}");
            }
        }
        return (FailureReason.Error, $"{exception.GetType().Name}: {OneLine(exception.Message)}");
    }

    /// <summary>What went wrong in a forwarding attempt, in a few words on one line: the cause behind the attempt's kind.</summary>
    public static string DescribeAttempt(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var error = context.Features.Get<IForwarderErrorFeature>();
        return DescribeAttempt(error?.Error ?? ForwarderError.None, error?.Exception);
    }

    /// <inheritdoc cref="DescribeAttempt(HttpContext)"/>
    public static string DescribeAttempt(ForwarderError error, Exception? exception)
    {
        if (exception is not null)
        {
            var (reason, detail) = Classify(exception);
            if (reason != FailureReason.Error)
            {
                return detail;
            }
        }
        return error switch
        {
            ForwarderError.None => "answered with a status to retry",
            // The attempt's own timeout (per_try, or what was left of total) cancelled it while it waited on the server.
            ForwarderError.RequestTimedOut => "no response within the per-try timeout",
            _ when exception is null => error.ToString(),
            _ => $"{error}: {OneLine(exception.Message)}",
        };
    }

    /// <summary>Log lines stay one line, whatever an exception's message holds.</summary>
    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    private static (FailureReason Reason, string Detail) FromSocket(SocketException socket) => socket.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => (FailureReason.Refused, "connection refused"),
        SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown => (FailureReason.Reset, "connection reset"),
        SocketError.TimedOut => (FailureReason.ConnectTimeout, "connect timed out"),
        SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostDown or SocketError.NetworkDown
            => (FailureReason.Unreachable, "unreachable"),
        SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => (FailureReason.NameResolution, $"name resolution failed: {OneLine(socket.Message)}"),
        _ => (FailureReason.Error, $"socket error {socket.SocketErrorCode}"),
    };
}
