using System.Net;
using System.Net.Sockets;

namespace Switchman.Testing;

/// <summary>
/// A loopback address that answers nothing at all, like a powered-off host: a TCP connect to it neither completes nor
/// fails (no SYN-ACK, no RST), so only the client's own timeout ends it.
/// </summary>
/// <remarks>
/// Loopback always answers, so the silence is made: a listening socket with the smallest backlog that is never
/// accepted from, its accept queue filled at once by one connection of our own. Linux then drops every further SYN
/// without a word (it never resets on a full queue while <c>tcp_abort_on_overflow</c> is 0, the default), and the
/// connecting side keeps retransmitting until it gives up. The constructor checks that a connect really hangs and
/// throws otherwise, so a kernel that behaves differently fails the test loudly instead of making it pass for the
/// wrong reason. Unlike <see cref="BlackHoleListener"/>, which accepts and then never answers, nothing here connects.
/// </remarks>
public sealed class PoweredOffListener : IDisposable
{
    /// <summary>How long the self-check waits for a connect that must not complete.</summary>
    private static readonly TimeSpan SilenceCheck = TimeSpan.FromMilliseconds(200);

    private readonly Socket _listener;
    private readonly List<Socket> _fillers = [];
    private int _disposed;

    public PoweredOffListener()
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            // Backlog 0: Linux queues backlog + 1 = one established connection before the queue counts as full.
            _listener.Listen(0);
            EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
            FillAcceptQueue();
            EnsureConnectsHang();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public IPEndPoint EndPoint { get; } = new(IPAddress.Loopback, 0);

    public int Port => EndPoint.Port;

    /// <summary>The host:port to put in a configuration, e.g. "127.0.0.1:40123".</summary>
    public string Address => EndPoint.ToString();

    /// <summary>http://127.0.0.1:port/, for clients.</summary>
    public Uri BaseAddress => new($"http://{EndPoint}/");

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        foreach (var filler in _fillers)
        {
            filler.Dispose();
        }
        _listener.Dispose();
    }

    private void FillAcceptQueue()
    {
        var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _fillers.Add(filler);
        // The queue is empty, so the kernel completes this handshake on its own, at once.
        filler.Connect(EndPoint);
    }

    private void EnsureConnectsHang()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(SilenceCheck);
        try
        {
            probe.ConnectAsync(EndPoint, timeout.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return; // Silence: what a powered-off host gives.
        }
        catch (SocketException ex)
        {
            throw new InvalidOperationException(
                $"A connect to the full listener at {EndPoint} failed with {ex.SocketErrorCode} instead of hanging: this kernel cannot emulate a powered-off host this way.", ex);
        }
        throw new InvalidOperationException(
            $"A connect to the full listener at {EndPoint} completed instead of hanging: this kernel cannot emulate a powered-off host this way.");
    }
}
