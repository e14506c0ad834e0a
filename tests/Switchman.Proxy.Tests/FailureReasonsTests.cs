using System.Net.Sockets;
using Switchman.Proxy.Diagnostics;
using Yarp.ReverseProxy.Forwarder;

namespace Switchman.Proxy.Tests;

/// <summary>Failures named in one short line, for check results, attempt logs and metric labels.</summary>
public class FailureReasonsTests
{
    [Fact]
    public void Classify_AbortedSocketOperationWrappedInConnectTimeout_IsConnectTimeout()
    {
        // A cancelled connect can leave an OperationAborted socket error in the chain: the cancellation's cause counts.
        var error = new TaskCanceledException("The operation was canceled.",
            new TimeoutException("A connection could not be established within the configured ConnectTimeout.", new SocketException((int)SocketError.OperationAborted)));

        Assert.Equal((FailureReason.ConnectTimeout, "connect timed out"), FailureReasons.Classify(error));
    }

    [Fact]
    public void Classify_MultiLineMessage_StaysOneLine()
    {
        var (_, detail) = FailureReasons.Classify(new InvalidOperationException("first\nsecond"));

        Assert.Equal("InvalidOperationException: first second", detail);
    }

    public static TheoryData<ForwarderError, Exception?, string> Attempts => new()
    {
        { ForwarderError.Request, new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (127.0.0.1:1)", new SocketException((int)SocketError.ConnectionRefused)), "connection refused" },
        { ForwarderError.RequestTimedOut, new TaskCanceledException("The operation was canceled.", new TimeoutException("A connection could not be established within the configured ConnectTimeout.")), "connect timed out" },
        // YARP's activity timeout (our per-try timeout) cancels the request: a bare cancellation.
        { ForwarderError.RequestTimedOut, new TaskCanceledException("The operation was canceled."), "no response within the per-try timeout" },
        { ForwarderError.ResponseBodyDestination, new IOException("reading", new SocketException((int)SocketError.ConnectionReset)), "connection reset" },
        { ForwarderError.RequestBodyClient, new IOException("The client\nwent away"), "RequestBodyClient: The client went away" },
        { ForwarderError.None, null, "answered with a status to retry" },
    };

    [Theory]
    [MemberData(nameof(Attempts))]
    public void DescribeAttempt_NamesTheCause_InOneLine(ForwarderError error, Exception? exception, string expected)
    {
        Assert.Equal(expected, FailureReasons.DescribeAttempt(error, exception));
    }
}
