using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Switchman.Vips;

/// <summary>
/// A NETLINK_ROUTE socket and the request/answer exchange over it: send one request, read what the kernel sends back
/// for that request's sequence number until its acknowledgement (or error), or the end of a dump. Only one exchange at
/// a time; each operation opens its own.
/// </summary>
internal sealed class RouteSocket : IDisposable
{
    // Larger than the biggest dump part the kernel sends (32 KiB), so no datagram is ever cut.
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly Socket _socket;
    private uint _sequence;

    private RouteSocket(Socket socket) => _socket = socket;

    /// <summary>Opens one in the calling thread's network namespace.</summary>
    /// <exception cref="SocketException">The kernel refused (its errno is the exception's native error code).</exception>
    public static RouteSocket Open()
    {
        var descriptor = NativeMethods.Socket(NativeMethods.AddressFamilyNetlink, NativeMethods.SocketRawCloseOnExec, NativeMethods.NetlinkRoute);
        if (descriptor < 0)
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }
        // Unbound: the kernel gives it a port at the first send, and a send without an address goes to the kernel.
        return new RouteSocket(new Socket(new SafeSocketHandle(descriptor, ownsHandle: true)));
    }

    /// <summary>
    /// Sends the request <paramref name="build"/> makes for the next sequence number and hands every answer but the
    /// last to <paramref name="onAnswer"/> (before the next datagram is read: copy what you keep).
    /// </summary>
    /// <returns>0, or the errno the kernel answered.</returns>
    public async Task<int> ExchangeAsync(Func<uint, byte[]> build, Action<NetlinkMessage>? onAnswer, CancellationToken cancellationToken)
    {
        var sequence = ++_sequence;
        await _socket.SendAsync(build(sequence), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var received = await _socket.ReceiveAsync(_buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            foreach (var message in NetlinkMessage.Split(_buffer.AsMemory(0, received)))
            {
                if (message.Sequence != sequence)
                {
                    // Not an answer to this request (the socket joined no group, so nothing else should come): skip it.
                    continue;
                }
                if (message.Type is NetlinkMessage.Error or NetlinkMessage.Done)
                {
                    return message.ErrorNumber;
                }
                onAnswer?.Invoke(message);
            }
        }
    }

    public void Dispose() => _socket.Dispose();
}
