using System.Net;
using System.Net.Sockets;

namespace Switchman.Testing;

/// <summary>
/// A TCP listener on loopback that accepts connections and then never reads or answers: a server that has hung.
/// Connecting succeeds, and every request waits until the client's own timeout. Connections stay open until dispose.
/// </summary>
public sealed class BlackHoleListener : IDisposable, IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stopAccepting = new();
    private readonly Lock _gate = new();
    private readonly List<Socket> _accepted = [];
    private readonly Task _acceptLoop;
    private int _disposed;

    public BlackHoleListener()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        EndPoint = (IPEndPoint)_listener.LocalEndpoint;
        _acceptLoop = AcceptUntilStoppedAsync(_stopAccepting.Token);
    }

    public IPEndPoint EndPoint { get; }

    public int Port => EndPoint.Port;

    /// <summary>The host:port to put in a configuration, e.g. "127.0.0.1:40123".</summary>
    public string Address => EndPoint.ToString();

    /// <summary>http://127.0.0.1:port/, for clients.</summary>
    public Uri BaseAddress => new($"http://{EndPoint}/");

    /// <summary>Connections accepted so far.</summary>
    public int AcceptedConnections
    {
        get
        {
            lock (_gate)
            {
                return _accepted.Count;
            }
        }
    }

    /// <summary>Stops listening and closes every accepted connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!BeginDispose())
        {
            return;
        }
        await _acceptLoop.ConfigureAwait(false);
        CloseAll();
    }

    /// <inheritdoc cref="DisposeAsync"/>
    public void Dispose()
    {
        if (!BeginDispose())
        {
            return;
        }
        // The accept loop ends as soon as it sees the cancellation and never needs this thread (ConfigureAwait(false)),
        // so waiting here is brief and cannot deadlock.
        _acceptLoop.GetAwaiter().GetResult();
        CloseAll();
    }

    private bool BeginDispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return false;
        }
        _stopAccepting.Cancel();
        _listener.Stop();
        return true;
    }

    private void CloseAll()
    {
        lock (_gate)
        {
            foreach (var socket in _accepted)
            {
                socket.Dispose();
            }
            _accepted.Clear();
        }
        _stopAccepting.Dispose();
    }

    private async Task AcceptUntilStoppedAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(cancellationToken).ConfigureAwait(false);
                lock (_gate)
                {
                    _accepted.Add(socket);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (SocketException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping the listener can fail a pending accept this way instead.
        }
        catch (ObjectDisposedException) when (cancellationToken.IsCancellationRequested)
        {
            // Or this way.
        }
    }
}
