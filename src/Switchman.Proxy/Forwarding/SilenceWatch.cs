using Microsoft.Extensions.ObjectPool;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Forwarding;

/// <summary>
/// Lets an attempt stop waiting for a server that has fallen silent. A server whose host is powered off never answers
/// the requests already sent to it, not even with a reset: they would wait for <c>timeouts.per_try</c>.
/// <list type="bullet">
/// <item>When the attempt has waited for its response headers longer than a connect to its server may take, and the
/// server has shown no sign of life since the attempt began, the watch has the server checked
/// (<see cref="BackendConnector.CheckLiveness"/>).</item>
/// <item>When the server falls silent (that check, or any connect to it, goes unanswered:
/// <see cref="ServerSuspicion.SilenceToken"/>), the attempt is cancelled, so that the request can go to another server
/// at once.</item>
/// </list>
/// Only attempts that would be retried after a timeout anyway are watched (idempotent method, replayable body, attempts
/// left), and only abandoned when another server can take them; once the response headers are in, the attempt is left
/// alone. Pooled: each watch carries a cancellation source that YARP links to and a timer, and reusing them keeps the
/// hot path free of allocations.
/// </summary>
internal sealed class SilenceWatch
{
    private const int Idle = 0;
    private const int Waiting = 1;
    private const int Answered = 2;
    private const int Abandoned = 3;

    /// <summary>Enough for the requests in flight on a busy node; beyond that, watches are simply allocated.</summary>
    private const int MaxPooled = 1024;

    private static readonly ObjectPool<SilenceWatch> Pool = new DefaultObjectPool<SilenceWatch>(new Policy(), MaxPooled);

    private CancellationTokenSource _cancel = new();
    private CancellationTokenRegistration _registration;
    private ITimer? _lateTimer;
    private TimeProvider? _timerClock;
    private BackendRuntime? _backend;
    private ServerRuntime? _server;
    private long _startedTimestamp;
    private int _state;

    public static SilenceWatch Rent() => Pool.Get();

    public static void Return(SilenceWatch watch) => Pool.Return(watch);

    /// <summary>
    /// Starts watching an attempt on <paramref name="server"/>, late after <paramref name="lateAfter"/>; returns the token
    /// to pass to the forwarder.
    /// </summary>
    public CancellationToken Begin(BackendRuntime backend, ServerRuntime server, TimeSpan lateAfter, TimeProvider time)
    {
        if (!_cancel.TryReset())
        {
            _cancel.Dispose();
            _cancel = new CancellationTokenSource();
        }
        _backend = backend;
        _server = server;
        _startedTimestamp = time.GetTimestamp();
        Volatile.Write(ref _state, Waiting);
        // Runs at once if the server fell silent a moment ago: then the attempt is abandoned before it is sent.
        _registration = server.Suspicion.SilenceToken.UnsafeRegister(static watch => ((SilenceWatch)watch!).OnSilence(), this);
        ArmLateTimer(lateAfter, time);
        return _cancel.Token;
    }

    /// <summary>The response headers arrived: the attempt is no longer abandoned. False when it was abandoned just before.</summary>
    public bool ResponseArrived() => Interlocked.CompareExchange(ref _state, Answered, Waiting) != Abandoned;

    /// <summary>Ends the watch of the current attempt; true when the attempt was abandoned because its server fell silent.</summary>
    public bool End()
    {
        _lateTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        // Waits for a silence callback that is running on another thread, so nothing touches this watch afterwards.
        _registration.Dispose();
        _registration = default;
        _backend = null;
        _server = null;
        return Interlocked.Exchange(ref _state, Idle) == Abandoned;
    }

    private void ArmLateTimer(TimeSpan after, TimeProvider time)
    {
        if (_lateTimer is not null && ReferenceEquals(_timerClock, time))
        {
            _lateTimer.Change(after, Timeout.InfiniteTimeSpan);
            return;
        }
        _lateTimer?.Dispose();
        // A pooled watch outlives the request that created its timer: it must not keep that request's execution context.
        using (ExecutionContext.SuppressFlow())
        {
            _lateTimer = time.CreateTimer(static watch => ((SilenceWatch)watch!).OnLate(), this, after, Timeout.InfiniteTimeSpan);
        }
        _timerClock = time;
    }

    private void OnLate()
    {
        // Read once: the watch may be ending, or already serving the next attempt (then this is at worst an early check).
        var backend = _backend;
        var server = _server;
        if (backend is null || server is null || Volatile.Read(ref _state) != Waiting
            || server.LastSignOfLifeTimestamp >= Volatile.Read(ref _startedTimestamp))
        {
            // Answered, ended, or the server has answered something since this attempt began: its host is there.
            return;
        }
        backend.CheckLiveness(server);
    }

    private void OnSilence()
    {
        if (_backend is not { } backend || _server is not { } server || !backend.HasPreferredServerBesides(server))
        {
            // Nowhere else to go: keep waiting, the server may still answer.
            return;
        }
        if (Interlocked.CompareExchange(ref _state, Abandoned, Waiting) == Waiting)
        {
            _cancel.Cancel();
        }
    }

    private sealed class Policy : PooledObjectPolicy<SilenceWatch>
    {
        public override SilenceWatch Create() => new();

        public override bool Return(SilenceWatch watch) => Volatile.Read(ref watch._state) == Idle;
    }
}
