using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Switchman.Cluster.Transport;

/// <summary>
/// Watches one peer with the transport's own pings, on a dedicated authenticated connection (<see cref="ClusterChannel.Liveness"/>)
/// that the peer's listener answers itself, apart from Raft.
/// <para>
/// Why: DotNext's candidate counts its votes only once every member has answered or failed, and gives up when its
/// election timeout ends. A request to a member that answers nothing (powered off: no RST, no ARP; frozen: its kernel
/// still accepts connections) fails only at the request timeout, which must stay long for a follower whose disk is slow
/// to persist a batch. So a dead leader was never replaced. With this watch, a peer that misses a ping is declared
/// <see cref="PeerReachability.Unreachable"/> within <c>interval + unreachableAfter</c> (under the election timeout):
/// the transport then aborts its Raft connections to that peer (pending requests fail at once) and fails new ones
/// immediately, until the peer answers again.
/// </para>
/// One ping is in flight at a time: sent every <c>interval</c>, it must be answered within <c>unreachableAfter</c>.
/// Owned by its <see cref="ClusterTransport"/>, which starts it on the first Raft connection to the peer and disposes it.
/// </summary>
internal sealed class PeerLiveness : IAsyncDisposable
{
    /// <summary>How long a watch waits before dialing again a peer that failed authentication.</summary>
    private static readonly TimeSpan AfterAuthenticationFailure = TimeSpan.FromSeconds(5);

    private readonly ClusterTransport _transport;
    private readonly EndPoint _endpoint;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _unreachableAfter;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _sync = new();
    private CancellationTokenSource _reachable = new();
    private PeerReachability _state;
    private string _lastProblem = "not asked yet";
    private Task _loop = Task.CompletedTask;
    private int _disposed;

    public PeerLiveness(ClusterTransport transport, EndPoint endpoint, TimeSpan interval, TimeSpan unreachableAfter, ILogger logger, TimeProvider time)
    {
        _transport = transport;
        _endpoint = endpoint;
        Address = ClusterTransport.FormatAddress(endpoint);
        _interval = interval;
        _unreachableAfter = unreachableAfter;
        _logger = logger;
        _time = time;
    }

    public string Address { get; }

    public PeerReachability State
    {
        get
        {
            lock (_sync)
            {
                return _state;
            }
        }
    }

    /// <summary>Why the peer was last declared unreachable, for error messages.</summary>
    public string LastProblem
    {
        get
        {
            lock (_sync)
            {
                return _lastProblem;
            }
        }
    }

    /// <summary>Cancelled the moment the peer is declared unreachable (already cancelled while it is); Raft connections to it abort on it.</summary>
    public CancellationToken WhileReachable
    {
        get
        {
            lock (_sync)
            {
                return _reachable.Token;
            }
        }
    }

    /// <summary>Raised (on the watch's own task) when the state changes; the previous and the new state.</summary>
    public event Action<PeerLiveness, PeerReachability, PeerReachability>? Changed;

    public void Start() => _loop = RunAsync(_stopping.Token);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        await Task.Yield();
        while (!stopping.IsCancellationRequested)
        {
            string reason;
            var retryAfter = _interval;
            try
            {
                reason = await WatchOneConnectionAsync(stopping).ConfigureAwait(false);
            }
            catch (ClusterHandshakeException e) when (e.IsAuthenticationFailure)
            {
                // A peer with another secret: trying again every few milliseconds would only flood its log with
                // refusals. A fixed secret is picked up within this time.
                reason = e.Message;
                retryAfter = AfterAuthenticationFailure;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested && e is ClusterHandshakeException or SocketException or IOException or ObjectDisposedException or OperationCanceledException)
            {
                reason = _transport.Gate.IsIsolated ? "this node's cluster traffic is isolated (fault hook)"
                    : e is OperationCanceledException ? "the liveness connection was aborted" : e.Message;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            if (stopping.IsCancellationRequested)
            {
                break;
            }
            Set(PeerReachability.Unreachable, reason);
            try
            {
                await Task.Delay(retryAfter, _time, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Connects, then pings until a ping goes unanswered or the connection breaks; returns why it ended.</summary>
    private async Task<string> WatchOneConnectionAsync(CancellationToken stopping)
    {
        // Connecting gets the full handshake timeout: a peer already declared unreachable is refused at once anyway, and
        // a peer that is alive but busy (a fresh process, a loaded machine) must be able to get back in.
        var (link, gateToken) = await _transport.ConnectChannelAsync(_endpoint, ClusterChannel.Liveness, _transport.Options.HandshakeTimeout, stopping)
            .ConfigureAwait(false);
        using var session = CancellationTokenSource.CreateLinkedTokenSource(stopping, gateToken);
        // One ping is in flight at a time, so an answer always belongs to the ping awaited now (its sequence number
        // only makes captures readable).
        var pong = new AwaitedPing(0, 0, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var reader = ReadPongsAsync(link, () => Volatile.Read(ref pong), session.Token);
        try
        {
            var ping = new byte[LivenessPing.Length];
            for (long sequence = 1; ; sequence++)
            {
                var sent = _time.GetTimestamp();
                var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Volatile.Write(ref pong, new AwaitedPing(sequence, sent, waiting));
                LivenessPing.Write(ping, sequence, _transport.Leases?.Report ?? 0);
                await link.SendAsync(ping, session.Token).ConfigureAwait(false);
                var answer = waiting.Task.WaitAsync(_unreachableAfter, _time, session.Token);
                if (await Task.WhenAny(answer, reader).ConfigureAwait(false) == reader)
                {
                    // The connection ended while a ping was out. The wait for its answer is observed here: on a loaded
                    // machine it may time out before the session is cancelled, and a fault nobody observes is reported
                    // as an unobserved task exception (seen by the soak, docs/reliability.md).
                    await session.CancelAsync().ConfigureAwait(false);
                    await answer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    return await reader.ConfigureAwait(false);
                }
                try
                {
                    await answer.ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    if (!await StillAnsweringAsync(link, waiting.Task, sent, session.Token).ConfigureAwait(false))
                    {
                        return $"no answer to a liveness ping within {_unreachableAfter.TotalMilliseconds:0} ms, and nothing else from it";
                    }
                }
                Set(PeerReachability.Reachable, "answered a liveness ping");
                var rest = _interval - _time.GetElapsedTime(sent);
                if (rest > TimeSpan.Zero)
                {
                    await Task.Delay(rest, _time, session.Token).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            await session.CancelAsync().ConfigureAwait(false);
            link.Dispose();
            // Never throws: it turns every way a connection ends into a reason.
            await reader.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A ping went unanswered in time: is the peer nevertheless alive? Yes while its answer is already in the socket (this
    /// node was paused and its timer ran before the read) or while other bytes keep arriving from it (a busy peer that
    /// is sending us Raft traffic); then the answer is awaited a little longer, up to the handshake timeout in all. A
    /// frozen or powered-off peer sends nothing at all, so it is declared unreachable at the first timeout.
    /// </summary>
    private async Task<bool> StillAnsweringAsync(ClusterLink link, Task answer, long sent, CancellationToken cancellationToken)
    {
        while (link.HasPendingInput || _transport.HeardFromWithin(Address, _unreachableAfter))
        {
            if (_time.GetElapsedTime(sent) >= _transport.Options.HandshakeTimeout)
            {
                return false;
            }
            try
            {
                await answer.WaitAsync(_unreachableAfter, _time, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (TimeoutException)
            {
            }
        }
        return false;
    }

    /// <summary>Completes the awaited ping with each answer; returns why the connection ended.</summary>
    private async Task<string> ReadPongsAsync(ClusterLink link, Func<AwaitedPing> awaited, CancellationToken cancellationToken)
    {
        var buffer = new byte[LivenessPing.Length];
        try
        {
            while (await link.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false))
            {
                _transport.TouchContact(Address);
                var (sequence, granted) = LivenessPing.Read(buffer);
                var ping = awaited();
                if (sequence == ping.Sequence)
                {
                    // The lease runs from when this ping was sent: only an answer to the ping awaited now is known to be that recent.
                    _transport.Leases?.Answered(ping.SentAt, granted);
                }
                ping.Answer.TrySetResult();
            }
            return "it closed the liveness connection";
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return $"the liveness connection failed ({(e as SocketException ?? e.InnerException as SocketException)?.SocketErrorCode.ToString() ?? e.Message})";
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            return "the liveness connection was closed";
        }
    }

    /// <summary>
    /// Forgets the verdict: the gate was healed, so what was learned while isolated says nothing. Connections are
    /// allowed again at once; the watch's next ping (within an interval) gives the new verdict.
    /// </summary>
    public void Forget() => Set(PeerReachability.Unknown, "cluster traffic healed");

    /// <summary>The ping whose answer is awaited now: its sequence number, when it was sent, and what its answer completes.</summary>
    private sealed record AwaitedPing(long Sequence, long SentAt, TaskCompletionSource Answer);

    private void Set(PeerReachability state, string reason)
    {
        PeerReachability previous;
        CancellationTokenSource? lost = null;
        lock (_sync)
        {
            if (state == PeerReachability.Unreachable)
            {
                _lastProblem = reason;
            }
            previous = _state;
            if (previous == state)
            {
                return;
            }
            _state = state;
            if (state == PeerReachability.Unreachable)
            {
                lost = _reachable;
            }
            else if (_reachable.IsCancellationRequested)
            {
                _reachable = new CancellationTokenSource();
            }
        }
        // Outside the lock: the callbacks abort this peer's Raft connections. Like the gate's, the cancelled source is
        // not disposed (late registrations must still run at once); it holds no timer.
        lost?.Cancel();
        if (state == PeerReachability.Unreachable)
        {
            _logger.PeerUnreachable(Address, reason);
        }
        else if (state == PeerReachability.Reachable)
        {
            _logger.PeerReachable(Address);
        }
        Changed?.Invoke(this, previous, state);
    }
}
