using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Switchman.Cluster.Transport;

/// <summary>
/// A bound cluster endpoint. It owns its listening socket and an accept loop; each accepted socket is authenticated on
/// its own task (at most <see cref="MaxPendingHandshakes"/> at once, each bounded by the handshake timeout), so a slow or
/// hostile client never delays the others. <see cref="AcceptAsync"/> returns authenticated connections only.
/// </summary>
internal sealed class ClusterConnectionListener : IConnectionListener
{
    /// <summary>Beyond this many handshakes in progress, new sockets are refused at once.</summary>
    internal const int MaxPendingHandshakes = 128;

    private static readonly TimeSpan AcceptRetryDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The least time an inbound handshake is given. The dialing side decides how long it waits for us (its request
    /// timeout, tens of milliseconds); this side's timeout only bounds what a silent client can hold, so it is lenient:
    /// a busy node must not cut off a peer that is merely slower than the dialer's own timeout.
    /// </summary>
    private static readonly TimeSpan MinInboundHandshakeTimeout = TimeSpan.FromSeconds(1);

    private readonly ClusterTransport _transport;
    private readonly Socket _listenSocket;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Channel<AuthenticatedConnection> _accepted =
        Channel.CreateUnbounded<AuthenticatedConnection>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly CancellationTokenSource _stopping = new();
    private readonly PendingWork _handshakes = new();
    private readonly PendingWork _livenessSessions = new();
    private readonly Lock _sync = new();
    private Task _acceptLoop = Task.CompletedTask;
    private Task? _stopped;
    private Task? _disposed;

    public ClusterConnectionListener(ClusterTransport transport, Socket listenSocket, ILogger logger, TimeProvider timeProvider)
    {
        _transport = transport;
        _listenSocket = listenSocket;
        _logger = logger;
        _timeProvider = timeProvider;
        EndPoint = _listenSocket.LocalEndPoint!;
    }

    public EndPoint EndPoint { get; }

    private TimeSpan InboundHandshakeTimeout => _transport.Options.HandshakeTimeout > MinInboundHandshakeTimeout ? _transport.Options.HandshakeTimeout : MinInboundHandshakeTimeout;

    public void Start()
    {
        _logger.Listening(EndPoint.ToString()!, _transport.Tls is null ? "authenticated with the shared secret, not encrypted" : "mutual TLS 1.3 and the shared secret");
        if (_transport.Tls is null)
        {
            _logger.TrafficNotEncrypted(EndPoint.ToString()!);
        }
        _acceptLoop = AcceptLoopAsync();
    }

    /// <returns>The next authenticated connection; null once unbound and every queued connection was taken.</returns>
    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (await _accepted.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_accepted.Reader.TryRead(out var connection))
            {
                return connection;
            }
        }
        return null;
    }

    /// <summary>Stops accepting; connections already authenticated can still be taken. Never throws for <paramref name="cancellationToken"/>.</summary>
    public ValueTask UnbindAsync(CancellationToken cancellationToken = default) => new(StopAsync());

    public ValueTask DisposeAsync()
    {
        lock (_sync)
        {
            _disposed ??= DisposeCoreAsync();
            return new ValueTask(_disposed);
        }
    }

    private Task StopAsync()
    {
        lock (_sync)
        {
            return _stopped ??= StopCoreAsync();
        }
    }

    private async Task StopCoreAsync()
    {
        await Task.Yield();
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listenSocket.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        await _handshakes.CloseAsync().ConfigureAwait(false);
        await _livenessSessions.CloseAsync().ConfigureAwait(false);
        _accepted.Writer.TryComplete();
    }

    private async Task DisposeCoreAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
            while (_accepted.Reader.TryRead(out var connection))
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            _stopping.Dispose();
        }
        finally
        {
            _transport.OnListenerDisposed(this);
        }
    }

    private async Task AcceptLoopAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listenSocket.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (Exception e) when (token.IsCancellationRequested && e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                break;
            }
            catch (SocketException e)
            {
                // Out of file descriptors, a connection reset while queued…: the listening socket itself is fine.
                _logger.AcceptFailed(EndPoint.ToString()!, e);
                try
                {
                    await Task.Delay(AcceptRetryDelay, _timeProvider, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                continue;
            }

            var remote = DescribeRemote(socket);
            if (_transport.Gate.IsIsolated)
            {
                _logger.InboundDroppedWhileIsolated(remote);
                socket.Dispose();
                continue;
            }
            if (!_handshakes.TryEnter(MaxPendingHandshakes))
            {
                if (!_handshakes.IsClosed)
                {
                    _transport.Refuse(remote, RefusalReason.Overloaded, $"{MaxPendingHandshakes} handshakes in progress");
                }
                socket.Dispose();
                continue;
            }
            // Tracked by `handshakes`, which StopCoreAsync waits for; HandshakeAsync never throws.
            _ = HandshakeAsync(socket, remote, token);
        }
    }

    private async Task HandshakeAsync(Socket socket, string remote, CancellationToken stoppingToken)
    {
        var gateToken = _transport.Gate.Token;
        ClusterLink? link = null;
        var adopted = false;
        try
        {
            using var timeout = new CancellationTokenSource(InboundHandshakeTimeout, _timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token, gateToken);
            try
            {
                socket.NoDelay = true;
                link = _transport.Tls is { } tls ? await tls.AcceptAsync(socket, linked.Token).ConfigureAwait(false) : new ClusterLink(socket);
                var (peer, channel) = await ClusterHandshake.RunServerAsync(
                    link, _transport.LocalIdentity, _transport.Options.Secret, claimed => ClusterTls.CheckIdentity(link, claimed), linked.Token)
                    .ConfigureAwait(false);
                if (channel == ClusterChannel.Liveness)
                {
                    adopted = TryStartLivenessSession(link, peer, gateToken, stoppingToken);
                    return;
                }
                var connection = _transport.Adopt(link, peer, gateToken, inbound: true);
                adopted = true;
                if (!_accepted.Writer.TryWrite(connection))
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }
            catch (HandshakeRefusedException e) when (e.Reason == RefusalReason.NoHello)
            {
                _logger.ClosedBeforeHello(remote);
            }
            catch (HandshakeRefusedException e)
            {
                _transport.Refuse(remote, e.Reason, e.Detail);
            }
            catch (AuthenticationException e)
            {
                // TLS was set up, then the client sent an alert instead of its hello: it refused this node's certificate.
                _transport.Refuse(remote, RefusalReason.Untrusted, $"the client refused this node's certificate: {e.Message}");
            }
            catch (Exception e) when (linked.IsCancellationRequested && e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
            {
                if (stoppingToken.IsCancellationRequested)
                {
                    // Unbinding: not the client's fault.
                }
                else if (gateToken.IsCancellationRequested)
                {
                    _logger.InboundDroppedWhileIsolated(remote);
                }
                else
                {
                    _transport.Refuse(remote, RefusalReason.Timeout, $"no complete handshake within {InboundHandshakeTimeout.TotalMilliseconds:0} ms");
                }
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                var error = (e as SocketException ?? e.InnerException as SocketException)?.SocketErrorCode.ToString() ?? e.Message;
                _transport.Refuse(remote, RefusalReason.Abandoned, $"connection failed during the handshake: {error}");
            }
        }
        catch (ObjectDisposedException) when (stoppingToken.IsCancellationRequested)
        {
            // The transport was disposed under us; the socket is closed below.
        }
        catch (Exception e)
        {
            // Unexpected, but this task has no one to throw to: the client is refused like any other.
            _transport.Refuse(remote, RefusalReason.Malformed, $"handshake failed: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            if (!adopted)
            {
                link?.Dispose();
                socket.Dispose();
            }
            _handshakes.Exit();
        }
    }

    /// <summary>Answers a peer's liveness pings on this link until it closes, the gate isolates or the listener stops; owns the link.</summary>
    private bool TryStartLivenessSession(ClusterLink link, ClusterPeerIdentity peer, CancellationToken gateToken, CancellationToken stoppingToken)
    {
        if (!_livenessSessions.TryEnter())
        {
            return false;
        }
        // Tracked by `livenessSessions`, which StopCoreAsync waits for; AnswerPingsAsync never throws.
        _ = AnswerPingsAsync(link, peer, gateToken, stoppingToken);
        return true;
    }

    private async Task AnswerPingsAsync(ClusterLink link, ClusterPeerIdentity peer, CancellationToken gateToken, CancellationToken stoppingToken)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(gateToken, stoppingToken);
        var reason = "closed by the peer";
        try
        {
            var ping = new byte[LivenessPing.Length];
            while (await link.ReceiveAsync(ping, session.Token).ConfigureAwait(false))
            {
                _transport.TouchContact(peer.Address);
                var (sequence, report) = LivenessPing.Read(ping);
                var granted = _transport.Leases?.Answer(peer.NodeId, report) ?? 0;
                LivenessPing.Write(ping, sequence, granted);
                await link.SendAsync(ping, session.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            reason = stoppingToken.IsCancellationRequested ? "this node stopped listening"
                : gateToken.IsCancellationRequested ? "cluster traffic is isolated" : e.Message;
        }
        finally
        {
            link.Dispose();
            _logger.LivenessSessionEnded(peer.NodeId, peer.Address, reason);
            _livenessSessions.Exit();
        }
    }

    private static string DescribeRemote(Socket socket)
    {
        try
        {
            return ClusterTransport.FormatAddress(socket.RemoteEndPoint ?? new IPEndPoint(IPAddress.None, 0));
        }
        catch (SocketException)
        {
            return "(disconnected peer)";
        }
    }
}
