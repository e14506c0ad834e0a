using System.Net;
using System.Net.Sockets;

namespace Switchman.Testing;

/// <summary>
/// A loopback address where a TCP connect gets no answer at all, like a server whose host is powered off on the LAN:
/// no SYN-ACK, no RST, no ICMP. The connect waits until the client's own timeout. (Unlike
/// <see cref="BlackHoleListener"/>, where the connection opens and only the HTTP answer never comes.)
/// A listening socket whose accept queue is full (see <see cref="AcceptQueue"/>); Linux only.
/// </summary>
public sealed class SynDropListener : IDisposable
{
    private readonly Socket _listener;
    private readonly List<Socket> _fillers;

    private SynDropListener(Socket listener, List<Socket> fillers)
    {
        _listener = listener;
        _fillers = fillers;
        EndPoint = (IPEndPoint)listener.LocalEndPoint!;
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>The host:port to put in a configuration, e.g. "127.0.0.1:40123".</summary>
    public string Address => EndPoint.ToString();

    /// <summary>Listens on a free loopback port and fills the accept queue; from then on every SYN is dropped.</summary>
    public static async Task<SynDropListener> StartAsync()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(0);
            var fillers = await AcceptQueue.FillAsync(listener).ConfigureAwait(false);
            return new SynDropListener(listener, fillers);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>Stops listening: from then on connects are refused.</summary>
    public void Dispose()
    {
        _listener.Dispose();
        foreach (var filler in _fillers)
        {
            filler.Dispose();
        }
    }
}
