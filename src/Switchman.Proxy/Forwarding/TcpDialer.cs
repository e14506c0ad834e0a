using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Switchman.Proxy.Forwarding;

/// <summary>Starts TCP connects: the seam between the connector's timing decisions and real sockets (tests replace it).</summary>
internal interface ITcpDialer
{
    /// <summary>Starts connecting to <paramref name="endPoint"/>; cancelling <paramref name="cancellationToken"/> abandons the connect.</summary>
    TcpDial Dial(DnsEndPoint endPoint, CancellationToken cancellationToken);
}

/// <summary>A connect under way.</summary>
internal sealed class TcpDial
{
    private readonly Func<bool>? _isEstablished;
    private readonly Func<TimeSpan?>? _handshakeRoundTrip;

    public TcpDial(Task<Stream> completion, Func<bool>? isEstablished = null, Func<TimeSpan?>? handshakeRoundTrip = null)
    {
        Completion = completion;
        _isEstablished = isEstablished;
        _handshakeRoundTrip = handshakeRoundTrip;
    }

    /// <summary>
    /// Once connected: the round trip of the handshake as the kernel measured it, or null when it cannot tell. Unlike a
    /// stopwatch around the connect, it leaves out this process's own delays (a busy thread pool, code still compiling).
    /// </summary>
    public TimeSpan? HandshakeRoundTrip => Completion.IsCompletedSuccessfully ? _handshakeRoundTrip?.Invoke() : null;

    /// <summary>The connected stream, or the reason the connect failed.</summary>
    public Task<Stream> Completion { get; }

    /// <summary>
    /// True when the kernel has completed the handshake although <see cref="Completion"/> has not run yet: the server
    /// answered in time and only this process was slow (busy threads, a GC pause), which must not be held against it.
    /// </summary>
    public bool IsEstablished => Completion.IsCompletedSuccessfully || (_isEstablished?.Invoke() ?? false);

    /// <summary>
    /// Waits until the connect ends (either way) or <paramref name="deadline"/> passes; true when the server answered in
    /// time: the connect ended, or the handshake is done and only our continuation is late.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired first.</exception>
    public async ValueTask<bool> AnsweredWithinAsync(TimeSpan deadline, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!Completion.IsCompleted)
        {
            using var stopTimer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var timer = Task.Delay(deadline, time, stopTimer.Token);
            await Task.WhenAny(Completion, timer).ConfigureAwait(false);
            await stopTimer.CancelAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
        return Completion.IsCompleted || IsEstablished;
    }
}

/// <summary>Real sockets, set up as SocketsHttpHandler sets up its own (dual-mode, no Nagle).</summary>
internal sealed class SocketDialer : ITcpDialer
{
    public static readonly SocketDialer Instance = new();

    public TcpDial Dial(DnsEndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        return new TcpDial(ConnectAsync(socket, endPoint, cancellationToken), () => IsConnected(socket), () => KernelRoundTrip(socket));
    }

    private static async Task<Stream> ConnectAsync(Socket socket, DnsEndPoint endPoint, CancellationToken cancellationToken)
    {
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Linux's smoothed RTT of the connection (tcp_info.tcpi_rtt, µs), which after the handshake is the SYN / SYN-ACK
    /// round trip; null elsewhere, and when the kernel took no sample (a retransmitted SYN).</summary>
    private static TimeSpan? KernelRoundTrip(Socket socket)
    {
        const int ipProtoTcp = 6;
        const int tcpInfo = 11;
        const int rttOffset = 68;
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        try
        {
            Span<byte> info = stackalloc byte[104];
            var length = socket.GetRawSocketOption(ipProtoTcp, tcpInfo, info);
            if (length < rttOffset + sizeof(uint))
            {
                return null;
            }
            var microseconds = MemoryMarshal.Read<uint>(info[rttOffset..]);
            return microseconds == 0 ? null : TimeSpan.FromMicroseconds(microseconds);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>A connecting socket turns writable when the handshake ends; without a pending error, it succeeded.</summary>
    private static bool IsConnected(Socket socket)
    {
        try
        {
            return socket.Poll(0, SelectMode.SelectWrite) && socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error) is 0;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }
}
