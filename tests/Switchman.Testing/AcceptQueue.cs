using System.Net;
using System.Net.Sockets;

namespace Switchman.Testing;

/// <summary>
/// Makes a listening socket drop every further SYN, the way a powered-off host ignores them: its backlog is cut to the
/// minimum and its accept queue filled with connections of our own that nobody accepts. Linux then drops each new SYN
/// without an answer (no SYN-ACK, no RST: <c>tcp_abort_on_overflow</c> is 0 by default), so a client's connect waits,
/// retransmits its SYN after 1 s, 3 s… and times out on its own clock. Linux only: it reads the queue's fill level from
/// TCP_INFO rather than guessing from timings.
/// </summary>
internal static class AcceptQueue
{
    private const int IpProtoTcp = 6;
    private const int TcpInfo = 11;

    // struct tcp_info: for a listening socket Linux reports the accept queue length in tcpi_unacked and the backlog
    // in tcpi_sacked (net/ipv4/tcp.c, tcp_get_info).
    private const int UnackedOffset = 24;
    private const int SackedOffset = 28;

    /// <summary>Enough for any backlog we set; the loop ends long before on a kernel that behaves as described.</summary>
    private const int MaxFillers = 16;

    private static readonly TimeSpan FillerConnectTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan QueueSettleTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Sets the backlog of <paramref name="listener"/> to the minimum and fills its accept queue. Nothing may accept
    /// from it afterwards. Returns the client ends of the filler connections: keep them open as long as SYNs must be
    /// dropped, and dispose them after.
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    /// <exception cref="InvalidOperationException">The queue did not fill up as expected.</exception>
    public static async Task<List<Socket>> FillAsync(Socket listener)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Dropping SYNs through a full accept queue is emulated on Linux only.");
        }
        // listen(2) on a listening socket only changes its backlog; 0 leaves room for one queued connection.
        listener.Listen(0);
        var endPoint = (IPEndPoint)listener.LocalEndPoint!;
        var fillers = new List<Socket>();
        try
        {
            while (!IsFull(listener))
            {
                if (fillers.Count == MaxFillers)
                {
                    throw new InvalidOperationException(
                        $"The accept queue of {endPoint} is not full after {MaxFillers} connections (length {QueueLength(listener)}, backlog {Backlog(listener)}).");
                }
                var filler = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(filler);
                using var timeout = new CancellationTokenSource(FillerConnectTimeout);
                try
                {
                    await filler.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested)
                {
                    // Its SYN was dropped: the queue is full already.
                    break;
                }
                // The handshake is complete for the client; the listener queues the connection when it sees the last ACK.
                var queued = fillers.Count;
                await Await.UntilAsync(() => QueueLength(listener) >= queued || IsFull(listener), QueueSettleTimeout,
                    $"the accept queue of {endPoint} to hold {queued} connection(s)").ConfigureAwait(false);
            }
            return fillers;
        }
        catch
        {
            foreach (var filler in fillers)
            {
                filler.Dispose();
            }
            throw;
        }
    }

    /// <summary>Linux drops SYNs once the queue holds more than the backlog (sk_acceptq_is_full).</summary>
    private static bool IsFull(Socket listener) => QueueLength(listener) > Backlog(listener);

    private static uint QueueLength(Socket listener) => ReadTcpInfo(listener, UnackedOffset);

    private static uint Backlog(Socket listener) => ReadTcpInfo(listener, SackedOffset);

    private static uint ReadTcpInfo(Socket listener, int offset)
    {
        Span<byte> info = stackalloc byte[256];
        var length = listener.GetRawSocketOption(IpProtoTcp, TcpInfo, info);
        if (length < offset + 4)
        {
            throw new PlatformNotSupportedException($"TCP_INFO returned {length} bytes; the accept queue cannot be read.");
        }
        // Host byte order, as the kernel fills it.
        return BitConverter.ToUInt32(info[offset..]);
    }
}
