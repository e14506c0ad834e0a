using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace Switchman.Cluster.Transport;

/// <summary>
/// A cluster connection after a successful handshake: Kestrel's socket connection with an input that records the peer's
/// last contact, the peer's <see cref="ClusterPeerIdentity"/> in its features, aborted when the gate isolates, and known
/// to its transport until disposed. Disposal is idempotent; the synchronous <see cref="Dispose"/> (which DotNext's client
/// calls) aborts and starts the asynchronous one, which the transport awaits if it is disposed meanwhile.
/// </summary>
internal sealed class AuthenticatedConnection : ConnectionContext, IDisposable
{
    private readonly ConnectionContext _inner;
    private readonly Action<AuthenticatedConnection> _onDisposed;
    private readonly Lock _sync = new();
    private CancellationTokenRegistration _isolation;
    private CancellationTokenRegistration _unreachable;
    private Task? _disposal;

    public AuthenticatedConnection(ConnectionContext inner, ClusterPeerIdentity peer, PeerContact contact, Action<AuthenticatedConnection> onDisposed)
    {
        _inner = inner;
        _onDisposed = onDisposed;
        Peer = peer;
        _inner.Features.Set(peer);
        var socketPipe = _inner.Transport;
        Transport = new TrackingDuplexPipe(new ContactTrackingPipeReader(socketPipe.Input, contact), socketPipe.Output);
    }

    public ClusterPeerIdentity Peer { get; }

    public override string ConnectionId
    {
        get => _inner.ConnectionId;
        set => _inner.ConnectionId = value;
    }

    public override IFeatureCollection Features => _inner.Features;

    public override IDictionary<object, object?> Items
    {
        get => _inner.Items;
        set => _inner.Items = value;
    }

    public override IDuplexPipe Transport { get; set; }

    public override EndPoint? LocalEndPoint
    {
        get => _inner.LocalEndPoint;
        set => _inner.LocalEndPoint = value;
    }

    public override EndPoint? RemoteEndPoint
    {
        get => _inner.RemoteEndPoint;
        set => _inner.RemoteEndPoint = value;
    }

    public override CancellationToken ConnectionClosed
    {
        get => _inner.ConnectionClosed;
        set => _inner.ConnectionClosed = value;
    }

    /// <summary>Aborts this connection when <paramref name="isolationToken"/> is cancelled (at once if it is already).</summary>
    public void AbortOnIsolation(CancellationToken isolationToken) =>
        _isolation = isolationToken.Register(
            static state => ((AuthenticatedConnection)state!).Abort(new ConnectionAbortedException("Cluster traffic is isolated (fault hook).")),
            this);

    /// <summary>
    /// Aborts this connection when <paramref name="whileReachable"/> is cancelled (the peer stopped answering liveness
    /// pings) and <paramref name="failFast"/> says so then: whatever DotNext waits for on this connection fails now
    /// rather than at its request timeout.
    /// </summary>
    public void AbortWhenUnreachable(CancellationToken whileReachable, Func<bool> failFast) =>
        _unreachable = whileReachable.Register(
            static state =>
            {
                var (connection, failFast) = ((AuthenticatedConnection, Func<bool>))state!;
                if (failFast())
                {
                    connection.Abort(new ConnectionAbortedException("The cluster peer stopped answering liveness pings."));
                }
            },
            (this, failFast));

    public override void Abort(ConnectionAbortedException abortReason)
    {
        lock (_sync)
        {
            if (_disposal is not null)
            {
                return;
            }
        }
        _inner.Abort(abortReason);
    }

    public override ValueTask DisposeAsync() => new(StartDisposal());

    public void Dispose()
    {
        Abort(new ConnectionAbortedException("The cluster connection was disposed."));
        _ = StartDisposal();
    }

    private Task StartDisposal()
    {
        lock (_sync)
        {
            return _disposal ??= DisposeCoreAsync();
        }
    }

    private async Task DisposeCoreAsync()
    {
        // Yield first: callers hold the lock, and the isolation callback may be running on another thread.
        await Task.Yield();
        try
        {
            await _isolation.DisposeAsync().ConfigureAwait(false);
            await _unreachable.DisposeAsync().ConfigureAwait(false);
            await _inner.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _onDisposed(this);
        }
    }
}
