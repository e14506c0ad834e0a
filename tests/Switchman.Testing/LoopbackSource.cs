using System.Net;
using System.Net.Sockets;

namespace Switchman.Testing;

/// <summary>
/// HTTP clients whose connections come from a chosen loopback address (127.0.0.2, 127.0.3.7…: all of 127/8 is this
/// host on Linux), so that a test can play several client hosts against a server that tells its clients apart by
/// address, such as the admin API's failed-authentication limit.
/// </summary>
public static class LoopbackSource
{
    /// <summary>The <paramref name="n"/>-th address after 127.0.0.1 (n ≥ 1): 127.0.0.2, 127.0.0.3… then 127.0.1.x.</summary>
    public static IPAddress Address(int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        return new IPAddress([127, 0, (byte)(n / 254), (byte)((n % 254) + 1)]);
    }

    /// <summary>A handler that binds every connection it opens to <paramref name="source"/> before connecting.</summary>
    public static SocketsHttpHandler Handler(IPAddress source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(source.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
    }
}
