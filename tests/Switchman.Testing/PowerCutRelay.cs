using System.Net;
using System.Net.Sockets;

namespace Switchman.Testing;

/// <summary>
/// A TCP relay on loopback in front of a real server, whose "host" can be powered off while clients use it. Until
/// <see cref="CutPowerAsync"/> it passes bytes both ways. After it, nothing answers any more, as when a server's host
/// loses power on the LAN: on open connections no byte passes in either direction and nothing is closed or reset, and a
/// new connect gets no SYN-ACK (see <see cref="SynDropListener"/>). <see cref="RestorePower"/> brings it back. Loopback cannot stop the kernel from acknowledging
/// what a client sends, so a client sees its bytes acknowledged and then silence — the same from HTTP's point of view.
/// Linux only. Every socket is closed on dispose.
/// </summary>
public sealed class PowerCutRelay : IAsyncDisposable
{
    private const int PumpBufferSize = 16 * 1024;

    private readonly Socket _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _disposing = new();
    private readonly Lock _gate = new();
    private readonly List<Socket> _sockets = [];
    private readonly List<Task> _pumps = [];
    private CancellationTokenSource _stopAccepting = new();
    private Task _acceptLoop;
    private List<Socket> _fillers = [];
    private int _powerCut;
    private int _connections;
    private int _disposed;

    private PowerCutRelay(Socket listener, IPEndPoint target)
    {
        _listener = listener;
        _target = target;
        EndPoint = (IPEndPoint)listener.LocalEndPoint!;
        _acceptLoop = AcceptUntilStoppedAsync(_stopAccepting.Token);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>The host:port to put in a configuration, e.g. "127.0.0.1:40123".</summary>
    public string Address => EndPoint.ToString();

    /// <summary>Client connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    public bool IsPowerCut => Volatile.Read(ref _powerCut) == 1;

    /// <summary>Listens on a free loopback port and relays every connection to <paramref name="target"/>.</summary>
    public static PowerCutRelay Start(IPEndPoint target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(512);
            return new PowerCutRelay(listener, target);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <inheritdoc cref="Start(IPEndPoint)"/>
    public static PowerCutRelay Start(Uri target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return Start(new IPEndPoint(IPAddress.Parse(target.Host), target.Port));
    }

    /// <summary>
    /// From now on nothing answers: open connections fall silent (kept open, no byte relayed either way) and new
    /// connects get no answer. Returns once the listener drops SYNs.
    /// </summary>
    public async Task CutPowerAsync()
    {
        if (Interlocked.Exchange(ref _powerCut, 1) == 1)
        {
            return;
        }
        // Stop accepting first: a connection the kernel completed meanwhile stays queued and unaccepted, like one whose
        // host died right after the handshake.
        await _stopAccepting.CancelAsync().ConfigureAwait(false);
        await _acceptLoop.ConfigureAwait(false);
        var fillers = await AcceptQueue.FillAsync(_listener).ConfigureAwait(false);
        lock (_gate)
        {
            _fillers = fillers;
        }
    }

    /// <summary>
    /// The host is back, as after a reboot: the connections it had are gone (each is closed, so their clients see it),
    /// and new connects are accepted and relayed again.
    /// </summary>
    public void RestorePower()
    {
        if (!IsPowerCut)
        {
            return;
        }
        List<Socket> forgotten;
        lock (_gate)
        {
            forgotten = [.. _sockets, .. _fillers];
            _sockets.Clear();
            _fillers = [];
        }
        foreach (var socket in forgotten)
        {
            socket.Dispose();
        }
        _listener.Listen(512);
        _stopAccepting.Dispose();
        _stopAccepting = new CancellationTokenSource();
        Volatile.Write(ref _powerCut, 0);
        _acceptLoop = AcceptUntilStoppedAsync(_stopAccepting.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _stopAccepting.CancelAsync().ConfigureAwait(false);
        await _disposing.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        Task[] pumps;
        lock (_gate)
        {
            foreach (var socket in _sockets.Concat(_fillers))
            {
                socket.Dispose();
            }
            pumps = [.. _pumps];
        }
        // Closing the sockets ends every pump; they never throw (see PumpAsync).
        await Task.WhenAll(pumps).ConfigureAwait(false);
        _stopAccepting.Dispose();
        _disposing.Dispose();
    }

    private async Task AcceptUntilStoppedAsync(CancellationToken stop)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(stop).ConfigureAwait(false);
            }
            catch (Exception e) when (stop.IsCancellationRequested && e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            Interlocked.Increment(ref _connections);
            var upstream = new Socket(_target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            client.NoDelay = true;
            lock (_gate)
            {
                _sockets.Add(client);
                _sockets.Add(upstream);
                _pumps.Add(RelayAsync(client, upstream));
            }
        }
    }

    private async Task RelayAsync(Socket client, Socket upstream)
    {
        try
        {
            await upstream.ConnectAsync(_target, _disposing.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The real server is gone or we are disposing: the client sees its connection closed.
            client.Dispose();
            return;
        }
        await Task.WhenAll(PumpAsync(client, upstream), PumpAsync(upstream, client)).ConfigureAwait(false);
    }

    /// <summary>Copies until end of stream, an error, or the power cut; never throws.</summary>
    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[PumpBufferSize];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _disposing.Token).ConfigureAwait(false);
                if (IsPowerCut)
                {
                    // Whatever arrives from now on is lost, and nothing is closed: the host is simply gone.
                    return;
                }
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                var sent = 0;
                while (sent < read)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None, _disposing.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // One side closed or reset the connection, or we are disposing.
        }
    }
}
