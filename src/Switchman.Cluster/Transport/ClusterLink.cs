using System.Net.Security;
using System.Net.Sockets;

namespace Switchman.Cluster.Transport;

/// <summary>
/// A cluster connection while it is being set up or used outside Raft (liveness pings): its socket, and the stream its
/// bytes go through — the socket itself, or TLS over it. Disposing closes both.
/// </summary>
internal sealed class ClusterLink(Socket socket, Stream stream) : IDisposable
{
    /// <summary>A plain link: the stream writes straight to the socket.</summary>
    public ClusterLink(Socket socket)
        : this(socket, new ClusterSocketStream(socket))
    {
    }

    public Socket Socket { get; } = socket;

    public Stream Stream { get; } = stream;

    /// <summary>The TLS session when the link is encrypted.</summary>
    public SslStream? Tls => Stream as SslStream;

    /// <summary>Whether bytes from the peer are waiting in the socket, not yet read (a frozen or powered-off peer sends none).</summary>
    public bool HasPendingInput => Socket.Available > 0;

    /// <summary>Fills <paramref name="buffer"/>; false when the peer closed the connection first.</summary>
    public async ValueTask<bool> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        await ReceiveSomeAsync(buffer, cancellationToken).ConfigureAwait(false) == buffer.Length;

    /// <summary>Fills <paramref name="buffer"/> unless the peer closes the connection first; returns the bytes read.</summary>
    public async ValueTask<int> ReceiveSomeAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var received = await Stream.ReadAsync(buffer[read..], cancellationToken).ConfigureAwait(false);
            if (received == 0)
            {
                break;
            }
            read += received;
        }
        return read;
    }

    public ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) =>
        Stream.WriteAsync(buffer, cancellationToken);

    public void Dispose()
    {
        Stream.Dispose();
        Socket.Dispose();
    }
}
