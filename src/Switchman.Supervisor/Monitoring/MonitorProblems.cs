using System.Globalization;
using System.Net.Sockets;

namespace Switchman.Supervisor.Monitoring;

/// <summary>The short problem texts the monitors share, so that HTTP and TCP checks read alike in status and events.</summary>
internal static class MonitorProblems
{
    /// <summary>"no answer within 1s", "no answer within 250ms".</summary>
    public static string NoAnswer(TimeSpan timeout) => "no answer within " + (timeout.TotalSeconds >= 1 && timeout.Milliseconds == 0
        ? timeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture) + "s"
        : timeout.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + "ms");

    /// <summary>A socket error as an operator would say it.</summary>
    public static string Of(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.HostUnreachable => "host unreachable",
        SocketError.NetworkUnreachable => "network unreachable",
        SocketError.ConnectionReset => "connection reset",
        SocketError.HostNotFound or SocketError.NoData => "host name not found",
        SocketError.TimedOut => "connection timed out",
        _ => e.Message,
    };
}

/// <summary>
/// A check's time limit on the injected clock, joined with the caller's token: <see cref="Token"/> ends at whichever
/// comes first, and <see cref="TimedOut"/> tells the two apart.
/// </summary>
internal sealed class CheckDeadline : IDisposable
{
    private readonly CancellationTokenSource _timeout;
    private readonly CancellationTokenSource _linked;

    public CheckDeadline(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        _timeout = new CancellationTokenSource(timeout, time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _timeout.Token);
    }

    public CancellationToken Token => _linked.Token;

    /// <summary>Whether the limit passed (rather than the caller cancelling).</summary>
    public bool TimedOut => _timeout.IsCancellationRequested;

    public void Dispose()
    {
        _linked.Dispose();
        _timeout.Dispose();
    }
}
