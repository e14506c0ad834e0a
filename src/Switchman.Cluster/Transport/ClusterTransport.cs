using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;

namespace Switchman.Cluster.Transport;

/// <summary>
/// The cluster plane's network transport, for DotNext's <c>RaftCluster.CustomTransportConfiguration</c> (as both the
/// listener factory and the client factory): TCP in which every connection starts with a mutual HMAC-SHA256
/// challenge–response keyed with the cluster's shared secret (<see cref="ClusterHandshake"/>). Only a connection whose
/// peer proved it knows the secret reaches Raft; a refused one is closed, logged (event 5101) and counted.
/// After the handshake a plain socket becomes a Kestrel socket connection (its pipes and memory pool), a TLS one an
/// <see cref="EncryptedConnection"/>.
/// <para>
/// Also records, per authenticated peer address, when bytes last arrived from that peer (<see cref="TryGetLastContact"/>),
/// and carries the <see cref="Gate"/> fault hook. Configure DotNext's <c>ConnectTimeout</c> at least as long as the
/// handshake takes (its default, a fraction of the election timeout, is too short for a handshake on a busy host).
/// </para>
/// </summary>
public sealed class ClusterTransport : IConnectionListenerFactory, IConnectionFactory, IAsyncDisposable
{
    private const int ListenBacklog = 512;

    private readonly byte[] _secret;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly SocketConnectionContextFactory _contextFactory;
    private readonly ConcurrentDictionary<string, PeerContact> _contacts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<AuthenticatedConnection, byte> _connections = new();
    private readonly ConcurrentDictionary<ClusterConnectionListener, byte> _listeners = new();
    private readonly ConcurrentDictionary<string, PeerLiveness> _liveness = new(StringComparer.Ordinal);
    private readonly PendingWork _outbound = new();
    private readonly CancellationTokenSource _disposing = new();
    private readonly Lock _sync = new();
    private EndPoint _localAddress;
    private long _refusedConnections;
    private long _abandonedHandshakes;
    private Task? _disposal;

    public ClusterTransport(ClusterTransportOptions options, ILoggerFactory loggerFactory, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.LocalAddress);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (options.NodeId is null || !ClusterHandshake.IsValidName(options.NodeId))
        {
            throw new ArgumentException(
                $"The node id must be 1–{ClusterHandshake.MaxNameLength} bytes of UTF-8 without control characters.", nameof(options));
        }
        if (!ClusterHandshake.IsValidName(FormatAddress(options.LocalAddress)))
        {
            throw new ArgumentException($"The local address must be at most {ClusterHandshake.MaxNameLength} bytes once formatted.", nameof(options));
        }
        if (options.Secret.Length < ClusterTransportOptions.MinimumSecretLength)
        {
            throw new ArgumentException($"The cluster secret must be at least {ClusterTransportOptions.MinimumSecretLength} bytes.", nameof(options));
        }
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.HandshakeTimeout, TimeSpan.Zero, nameof(options));

        // Our own copy: the caller may reuse or clear its buffer. Cleared when the transport is disposed.
        _secret = options.Secret.ToArray();
        Options = options with { Secret = _secret };
        _localAddress = options.LocalAddress;
        LocalIdentity = new ClusterPeerIdentity(options.NodeId, FormatAddress(_localAddress));
        _timeProvider = timeProvider;
        _logger = loggerFactory.CreateLogger<ClusterTransport>();
        if (options.Tls is { } files)
        {
            Tls = new ClusterTls(files, timeProvider);
            files.Reloaded += credentials => _logger.TlsFilesReloaded(credentials.Certificate.Subject, credentials.Certificate.NotAfter.ToUniversalTime());
            files.ReloadFailed += _logger.TlsFilesReloadFailed;
        }
        Gate = new ClusterTrafficGate(_logger);
        Gate.Healed += () =>
        {
            foreach (var watch in _liveness.Values)
            {
                watch.Forget();
            }
        };
        _contextFactory = new SocketConnectionContextFactory(
            new SocketConnectionFactoryOptions(), loggerFactory.CreateLogger("Switchman.Cluster.Transport.Sockets"));
    }

    /// <summary>The fault hook: isolates this node's cluster traffic, in both directions, until healed.</summary>
    public ClusterTrafficGate Gate { get; }

    /// <summary>
    /// Inbound connections refused because the peer sent what a node with the secret never sends: a wrong proof, bad
    /// magic or version, a malformed hello (isolation, timeouts and peers that gave up do not count).
    /// </summary>
    public long RefusedConnections => Interlocked.Read(ref _refusedConnections);

    /// <summary>
    /// Inbound handshakes that timed out or that the peer closed halfway: what a pause (SIGSTOP, a VM freeze) or a cut
    /// link leaves behind, on either side. Counted apart from refusals so that an alert on refusals means an intruder.
    /// </summary>
    public long AbandonedHandshakes => Interlocked.Read(ref _abandonedHandshakes);

    /// <summary>This node's cluster address as sent to peers: the configured one, or the port bound for a configured port 0.</summary>
    public EndPoint LocalAddress
    {
        get
        {
            lock (_sync)
            {
                return _localAddress;
            }
        }
    }

    internal ClusterTransportOptions Options { get; }

    /// <summary>Mutual TLS for every connection; null when cluster traffic is not encrypted.</summary>
    internal ClusterTls? Tls { get; }

    internal ClusterPeerIdentity LocalIdentity
    {
        get
        {
            lock (_sync)
            {
                return field;
            }
        }
        private set
        {
            lock (_sync)
            {
                field = value;
            }
        }
    }

    /// <summary>How addresses are spelled in handshakes and in <see cref="TryGetLastContact"/>: "ip:port", "[ipv6]:port", "host:port".</summary>
    public static string FormatAddress(EndPoint address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address switch
        {
            IPEndPoint ip => ip.ToString(),
            DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
            _ => address.ToString() ?? "",
        };
    }

    /// <summary>
    /// When bytes last arrived from the peer whose authenticated cluster address is <paramref name="peerAddress"/>
    /// (as <see cref="FormatAddress"/> spells it), over any connection, in either direction; a completed handshake counts.
    /// </summary>
    public bool TryGetLastContact(string peerAddress, out DateTimeOffset at)
    {
        var since = SinceContact(peerAddress);
        at = since == TimeSpan.MaxValue ? default : _timeProvider.GetUtcNow() - since;
        return since != TimeSpan.MaxValue;
    }

    /// <summary>Listens on <paramref name="endpoint"/>; the listener's <c>AcceptAsync</c> returns authenticated connections only.</summary>
    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ObjectDisposedException.ThrowIf(_disposing.IsCancellationRequested, this);
        var bindTo = await ResolveAsync(endpoint, cancellationToken).ConfigureAwait(false);
        var socket = new Socket(bindTo.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        ClusterConnectionListener listener;
        try
        {
            if (bindTo.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            socket.Bind(bindTo);
            socket.Listen(ListenBacklog);
            listener = new ClusterConnectionListener(this, socket, _logger, _timeProvider);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _listeners.TryAdd(listener, 0);
        if (_disposing.IsCancellationRequested)
        {
            await listener.DisposeAsync().ConfigureAwait(false);
            throw new ObjectDisposedException(nameof(ClusterTransport));
        }
        if (Options.LocalAddress is IPEndPoint { Port: 0 } && Options.LocalAddress.Equals(endpoint) && listener.EndPoint is IPEndPoint bound)
        {
            lock (_sync)
            {
                _localAddress = bound;
                LocalIdentity = LocalIdentity with { Address = FormatAddress(bound) };
            }
        }
        listener.Start();
        return listener;
    }

    /// <summary>
    /// Connects to the cluster peer at <paramref name="endpoint"/> for Raft and authenticates both ends. Fails at once
    /// while the peer is known to be unreachable (<see cref="PeerLiveness"/>), and the connection is aborted the moment
    /// it becomes so: a request to a dead peer fails within the liveness bound, not at the request timeout.
    /// </summary>
    /// <exception cref="ClusterHandshakeException">The peer refused us, failed authentication, did not answer in time or is unreachable; or this node is isolated.</exception>
    /// <exception cref="SocketException">The peer could not be reached at all.</exception>
    public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var peerName = FormatAddress(endpoint);
        var liveness = Options.WatchLiveness ? Watch(endpoint) : null;
        var whileReachable = liveness?.WhileReachable ?? CancellationToken.None;
        if (whileReachable.IsCancellationRequested && !Gate.IsIsolated)
        {
            throw Failed(peerName, new ClusterHandshakeException($"Cluster peer {peerName} is unreachable: {liveness!.LastProblem}."));
        }
        // A connect still under way when the peer is declared unreachable ends then, not at the handshake timeout.
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, whileReachable);
        ClusterLink link;
        ClusterPeerIdentity peer;
        CancellationToken gateToken;
        try
        {
            (link, peer, gateToken) = await ConnectChannelCoreAsync(endpoint, ClusterChannel.Raft, Options.HandshakeTimeout, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (whileReachable.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw Failed(peerName, new ClusterHandshakeException($"Cluster peer {peerName} is unreachable: {liveness!.LastProblem}.", e));
        }
        var connection = Adopt(link, peer, gateToken, inbound: false);
        connection.AbortWhenUnreachable(whileReachable, AbortConnectionsToUnreachablePeers);
        return connection;
    }

    /// <summary>
    /// Whether established Raft connections to a peer are aborted when it is declared unreachable (the default), asked
    /// at that moment; new connections to it are refused whatever this says. Its owner answers no while this node
    /// leads: aborting a follower's catch-up (a snapshot being sent) on a late ping sets it back, and a leader's own
    /// requests to a dead member time out without holding anything up.
    /// </summary>
    public Func<bool> AbortConnectionsToUnreachablePeers { get; set; } = static () => true;

    /// <summary>The VIP leases that ride on liveness pings; none (report 0, never grant) until a node sets them.</summary>
    internal Leases.HolderLeases? Leases { get; set; }

    /// <summary>Starts watching the peer at <paramref name="endpoint"/> now (a follower watches its leader, whose answers grant its lease).</summary>
    internal void WatchPeer(EndPoint endpoint)
    {
        if (Options.WatchLiveness && !_disposing.IsCancellationRequested)
        {
            Watch(endpoint);
        }
    }

    /// <summary>What this node's liveness pings say about the peer at <paramref name="peerAddress"/> (as <see cref="FormatAddress"/> spells it).</summary>
    public PeerReachability Reachability(string peerAddress) =>
        _liveness.TryGetValue(peerAddress, out var liveness) ? liveness.State : PeerReachability.Unknown;

    /// <summary>A watched peer's reachability changed: its address, the previous and the new state. Raised on the watch's task.</summary>
    public event Action<string, PeerReachability, PeerReachability>? PeerReachabilityChanged;

    /// <summary>
    /// Connects to <paramref name="endpoint"/> for one <paramref name="channel"/> and authenticates both ends, within
    /// <paramref name="timeout"/>; returns the link and the gate token it must close on.
    /// </summary>
    internal async Task<(ClusterLink Link, CancellationToken GateToken)> ConnectChannelAsync(
        EndPoint endpoint, ClusterChannel channel, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (link, _, gateToken) = await ConnectChannelCoreAsync(endpoint, channel, timeout, cancellationToken).ConfigureAwait(false);
        return (link, gateToken);
    }

    /// <summary>Whether bytes arrived from the peer at <paramref name="peerAddress"/>, over any connection, within <paramref name="window"/>.</summary>
    internal bool HeardFromWithin(string peerAddress, TimeSpan window) => SinceContact(peerAddress) < window;

    /// <summary>How long ago bytes last arrived from the peer, on the monotonic clock; <see cref="TimeSpan.MaxValue"/> if they never did.</summary>
    internal TimeSpan SinceContact(string peerAddress)
    {
        ArgumentNullException.ThrowIfNull(peerAddress);
        return _contacts.TryGetValue(peerAddress, out var contact) && contact.TryGetSince(out var since) ? since : TimeSpan.MaxValue;
    }

    /// <summary>Records that bytes arrived from the peer at <paramref name="peerAddress"/> outside a Raft connection (a liveness answer).</summary>
    internal void TouchContact(string peerAddress) => ContactOf(peerAddress).Touch();

    private PeerContact ContactOf(string peerAddress) =>
        _contacts.GetOrAdd(peerAddress, static (_, time) => new PeerContact(time), _timeProvider);

    public ValueTask DisposeAsync()
    {
        lock (_sync)
        {
            _disposal ??= DisposeCoreAsync();
            return new ValueTask(_disposal);
        }
    }

    /// <summary>
    /// Counts and logs an inbound connection that did not complete the handshake: a refusal (the peer sent something a
    /// node with the secret never sends) as a warning, an abandoned handshake (timed out, or closed halfway) apart.
    /// </summary>
    internal void Refuse(string remote, RefusalReason reason, string detail)
    {
        var text = reason switch
        {
            RefusalReason.WrongSecret => "wrong secret",
            RefusalReason.BadMagicOrVersion => "bad magic or version",
            RefusalReason.Timeout => "handshake timed out",
            RefusalReason.Abandoned => "peer gave up mid-handshake",
            RefusalReason.Malformed => "malformed handshake",
            RefusalReason.Overloaded => "too many handshakes in progress",
            RefusalReason.Untrusted => "TLS refused",
            _ => reason.ToString(),
        };
        // Logged before counted: whoever sees the count move (a metric scrape, a test) finds the line already written.
        if (reason.IsRefusal())
        {
            _logger.ConnectionRefused(remote, $"{text} ({detail})");
            Interlocked.Increment(ref _refusedConnections);
        }
        else
        {
            _logger.HandshakeAbandoned(remote, $"{text} ({detail})");
            Interlocked.Increment(ref _abandonedHandshakes);
        }
    }

    /// <summary>Turns an authenticated link into the connection handed to Raft; the connection owns the link from here.</summary>
    internal AuthenticatedConnection Adopt(ClusterLink link, ClusterPeerIdentity peer, CancellationToken gateToken, bool inbound)
    {
        var contact = ContactOf(peer.Address);
        contact.Touch();
        ConnectionContext inner = link.Tls is null ? _contextFactory.Create(link.Socket) : new EncryptedConnection(link);
        var connection = new AuthenticatedConnection(inner, peer, contact, OnConnectionDisposed);
        _connections.TryAdd(connection, 0);
        connection.AbortOnIsolation(gateToken);
        _logger.Authenticated(
            inbound ? "inbound" : "outbound", peer.NodeId, peer.Address, connection.RemoteEndPoint is { } remote ? FormatAddress(remote) : "(unknown)");
        return connection;
    }

    internal void OnListenerDisposed(ClusterConnectionListener listener) => _listeners.TryRemove(listener, out _);

    private void OnConnectionDisposed(AuthenticatedConnection connection) => _connections.TryRemove(connection, out _);

    private async Task<(ClusterLink Link, ClusterPeerIdentity Peer, CancellationToken GateToken)> ConnectChannelCoreAsync(
        EndPoint endpoint, ClusterChannel channel, TimeSpan handshakeTimeout, CancellationToken cancellationToken)
    {
        var peerName = FormatAddress(endpoint);
        if (Gate.IsIsolated)
        {
            throw Failed(peerName, new ClusterHandshakeException($"Not connecting to cluster peer {peerName}: this node's cluster traffic is isolated (fault hook)."));
        }
        if (!_outbound.TryEnter())
        {
            throw new ObjectDisposedException(nameof(ClusterTransport));
        }
        var gateToken = Gate.Token;
        using var timeout = new CancellationTokenSource(handshakeTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token, gateToken, _disposing.Token);
        Socket? socket = endpoint is IPEndPoint ip
            ? new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        ClusterLink? link = null;
        var connected = false;
        try
        {
            socket.NoDelay = true;
            await socket.ConnectAsync(endpoint, linked.Token).ConfigureAwait(false);
            connected = true;
            link = Tls is { } tls ? await tls.ConnectAsync(socket, peerName, linked.Token).ConfigureAwait(false) : new ClusterLink(socket);
            var tlsLink = link;
            var peer = await ClusterHandshake.RunClientAsync(
                link, LocalIdentity, Options.Secret, peerName, channel, claimed => ClusterTls.CheckIdentity(tlsLink, claimed), linked.Token)
                .ConfigureAwait(false);
            if (!string.Equals(peer.Address, peerName, StringComparison.Ordinal))
            {
                _logger.PeerAddressMismatch(peerName, peer.NodeId, peer.Address);
            }
            var authenticated = link;
            link = null;
            socket = null;
            return (authenticated, peer, gateToken);
        }
        catch (ClusterHandshakeException e)
        {
            throw Failed(peerName, e);
        }
        catch (AuthenticationException e)
        {
            // TLS was set up, then the peer sent an alert instead of its hello: it refused this node's certificate.
            throw Failed(peerName, ClusterHandshake.TlsCertificateRefused(peerName, e.Message, e));
        }
        catch (Exception e) when (linked.IsCancellationRequested && !cancellationToken.IsCancellationRequested
            && e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            if (_disposing.IsCancellationRequested)
            {
                throw new ObjectDisposedException(nameof(ClusterTransport));
            }
            if (gateToken.IsCancellationRequested)
            {
                throw Failed(peerName, new ClusterHandshakeException(
                    $"Connection to cluster peer {peerName} aborted: this node's cluster traffic is isolated (fault hook).", e));
            }
            throw Failed(peerName, new ClusterHandshakeException(
                $"Cluster peer {peerName} did not complete the handshake within {handshakeTimeout.TotalMilliseconds:0} ms "
                + "(it is down, frozen or cut off, refused us, or is not a Switchman cluster endpoint).", e));
        }
        catch (Exception e) when (connected && e is SocketException or IOException)
        {
            var error = (e as SocketException ?? e.InnerException as SocketException)?.SocketErrorCode.ToString() ?? e.Message;
            throw Failed(peerName, new ClusterHandshakeException(
                $"Cluster peer {peerName} refused the connection: it closed or reset it during the handshake ({error}).", e));
        }
        finally
        {
            link?.Dispose();
            socket?.Dispose();
            _outbound.Exit();
        }
    }

    /// <summary>The liveness watch of the peer at <paramref name="endpoint"/>, started on first use.</summary>
    private PeerLiveness Watch(EndPoint endpoint)
    {
        var address = FormatAddress(endpoint);
        if (_liveness.TryGetValue(address, out var existing))
        {
            return existing;
        }
        lock (_sync)
        {
            if (_liveness.TryGetValue(address, out existing))
            {
                return existing;
            }
            ObjectDisposedException.ThrowIf(_disposing.IsCancellationRequested, this);
            var liveness = new PeerLiveness(this, endpoint, Options.LivenessInterval, Options.UnreachableAfter, _logger, _timeProvider);
            liveness.Changed += (watch, previous, state) => PeerReachabilityChanged?.Invoke(watch.Address, previous, state);
            _liveness[address] = liveness;
            liveness.Start();
            return liveness;
        }
    }

    private ClusterHandshakeException Failed(string peerName, ClusterHandshakeException exception)
    {
        _logger.OutboundFailed(peerName, exception.Message);
        return exception;
    }

    private static async ValueTask<IPEndPoint> ResolveAsync(EndPoint endpoint, CancellationToken cancellationToken)
    {
        switch (endpoint)
        {
            case IPEndPoint ip:
                return ip;
            case DnsEndPoint dns:
                var addresses = await Dns.GetHostAddressesAsync(dns.Host, cancellationToken).ConfigureAwait(false);
                return addresses.Length > 0
                    ? new IPEndPoint(addresses[0], dns.Port)
                    : throw new SocketException((int)SocketError.HostNotFound);
            default:
                throw new NotSupportedException($"Cluster endpoints must be IP or DNS endpoints, not {endpoint.GetType().Name}.");
        }
    }

    private async Task DisposeCoreAsync()
    {
        await Task.Yield();
        await _disposing.CancelAsync().ConfigureAwait(false);
        // Watches first: their reconnect loops dial out. Taken under the lock, after which no new watch starts.
        PeerLiveness[] watches;
        lock (_sync)
        {
            watches = [.. _liveness.Values];
        }
        foreach (var watch in watches)
        {
            await watch.DisposeAsync().ConfigureAwait(false);
        }
        await _outbound.CloseAsync().ConfigureAwait(false);
        foreach (var listener in _listeners.Keys)
        {
            await listener.DisposeAsync().ConfigureAwait(false);
        }
        foreach (var connection in _connections.Keys)
        {
            connection.Abort(new ConnectionAbortedException("The cluster transport was disposed."));
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        _contextFactory.Dispose();
        _disposing.Dispose();
        CryptographicOperations.ZeroMemory(_secret);
    }
}
