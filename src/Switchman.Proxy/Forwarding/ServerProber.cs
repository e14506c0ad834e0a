using System.Globalization;
using System.Net;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Forwarding;

/// <summary>
/// Connects to servers in the background to find out whether they answer, so that no request has to wait to learn it:
/// <list type="bullet">
/// <item>it follows up the connects that requests stopped waiting for (<see cref="FollowUp"/>);</item>
/// <item>it checks a server whose answers are late (<see cref="CheckLiveness"/>): no answer to a connect within the
/// server's deadline, and the server falls silent;</item>
/// <item>while a server is suspect, it opens a fresh connect every <see cref="Interval"/> (<see cref="KeepProbing"/>),
/// so that the server comes back as soon as it answers, even with no health check configured and no request sent to it.</item>
/// </list>
/// Probe connections are closed at once: they are only tests. Every task it starts is tracked, and all stop on
/// <see cref="Dispose"/>.
/// </summary>
internal sealed class ServerProber : IDisposable
{
    /// <summary>Time between probe connects to a suspect server; each may take up to <c>timeouts.connect</c>.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly BackendConnector _connector;
    private readonly ITcpDialer _dialer;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly HashSet<ServerRuntime> _probing = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<ServerRuntime> _checking = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<Task> _running = [];
    private bool _disposed;

    public ServerProber(BackendConnector connector, ITcpDialer dialer, TimeProvider time)
    {
        _connector = connector;
        _dialer = dialer;
        _time = time;
    }

    /// <summary>Background tasks running now (follow-ups, liveness checks and probe loops).</summary>
    public int Running
    {
        get
        {
            lock (_lock)
            {
                return _running.Count;
            }
        }
    }

    /// <summary>
    /// Takes over a connect that nobody waits for any more: when it succeeds, <paramref name="server"/> answered (the
    /// connection is closed: the pool has moved on); when it fails, the server is probed until it answers. With no server
    /// (one the configuration no longer has), the connection is only closed. <paramref name="lifetime"/> (which ends the
    /// connect at the ceiling) is disposed here.
    /// </summary>
    public void FollowUp(ServerRuntime? server, TcpDial dial, CancellationTokenSource lifetime, long startedTimestamp)
    {
        if (!TryTrack(() => FollowUpAsync(server, dial, lifetime, startedTimestamp)))
        {
            lifetime.Cancel();
            lifetime.Dispose();
        }
    }

    /// <summary>Checks with a connect whether <paramref name="server"/> answers within its deadline; one check at a time per server.</summary>
    public void CheckLiveness(ServerRuntime server)
    {
        if (TryReserve(_checking, server) && !TryTrack(() => CheckLivenessAsync(server)))
        {
            Release(_checking, server);
        }
    }

    /// <summary>Probes <paramref name="server"/> every <see cref="Interval"/> while it stays suspect; one loop per server.</summary>
    public void KeepProbing(ServerRuntime server)
    {
        if (TryReserve(_probing, server) && !TryTrack(() => ProbeLoopAsync(server)))
        {
            Release(_probing, server);
        }
    }

    private async Task FollowUpAsync(ServerRuntime? server, TcpDial dial, CancellationTokenSource lifetime, long startedTimestamp)
    {
        var abortOnStop = _stopping.Token.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), lifetime);
        try
        {
            var stream = await dial.Completion.ConfigureAwait(false);
            if (server is not null)
            {
                _connector.Succeeded(server, dial, startedTimestamp);
            }
            await stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (!_stopping.IsCancellationRequested)
        {
            // A probe's failure is what it is there to find out, never an error of ours.
            if (server is not null)
            {
                _connector.Failed(server, e, reachedCeiling: lifetime.IsCancellationRequested);
            }
        }
        catch (Exception) when (_stopping.IsCancellationRequested)
        {
            // Disposed: the connect was aborted.
        }
        finally
        {
            await abortOnStop.DisposeAsync().ConfigureAwait(false);
            lifetime.Dispose();
        }
    }

    private async Task CheckLivenessAsync(ServerRuntime server)
    {
        var lifetime = new CancellationTokenSource(_connector.Ceiling, _time);
        var started = _time.GetTimestamp();
        var handedOver = false;
        try
        {
            var deadline = _connector.DeadlineFor(server);
            var dial = _dialer.Dial(EndPointOf(server), lifetime.Token);
            if (!await dial.AnsweredWithinAsync(deadline, _time, _stopping.Token).ConfigureAwait(false))
            {
                server.Suspicion.Suspect(SuspicionCause.Silent, string.Create(CultureInfo.InvariantCulture,
                    $"no answer to a connect within {deadline.TotalMilliseconds:0} ms, while requests waited for its answers"));
            }
            // Either way the connect runs to its end: success shows the server is there (and clears a suspicion).
            FollowUp(server, dial, lifetime, started);
            handedOver = true;
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (Exception e)
        {
            // The connect could not even start (no socket left, say): nothing learnt about the server.
            _connector.ProbeFailed(server, BackendConnector.Describe(e));
        }
        finally
        {
            Release(_checking, server);
            if (!handedOver)
            {
                await lifetime.CancelAsync().ConfigureAwait(false);
                lifetime.Dispose();
            }
        }
    }

    private async Task ProbeLoopAsync(ServerRuntime server)
    {
        var endPoint = EndPointOf(server);
        try
        {
            while (server.Suspicion.IsSuspect && _connector.Serves(server))
            {
                await Task.Delay(Interval, _time, _stopping.Token).ConfigureAwait(false);
                if (!server.Suspicion.IsSuspect)
                {
                    break;
                }
                await ProbeOnceAsync(server, endPoint).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Disposed.
        }
        finally
        {
            Release(_probing, server);
        }
        // It may have become suspect again between the last look and leaving the set: then nobody else would start a loop.
        if (server.Suspicion.IsSuspect && _connector.Serves(server))
        {
            KeepProbing(server);
        }
    }

    private async Task ProbeOnceAsync(ServerRuntime server, DnsEndPoint endPoint)
    {
        using var lifetime = new CancellationTokenSource(_connector.Ceiling, _time);
        using var abortOnStop = _stopping.Token.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), lifetime);
        var started = _time.GetTimestamp();
        try
        {
            var dial = _dialer.Dial(endPoint, lifetime.Token);
            var stream = await dial.Completion.ConfigureAwait(false);
            _connector.Succeeded(server, dial, started);
            await stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (!_stopping.IsCancellationRequested)
        {
            _connector.ProbeFailed(server, lifetime.IsCancellationRequested ? "no answer within timeouts.connect" : BackendConnector.Describe(e));
        }
        _stopping.Token.ThrowIfCancellationRequested();
    }

    private static DnsEndPoint EndPointOf(ServerRuntime server) => new(server.Address.Host, server.Address.Port);

    private bool TryReserve(HashSet<ServerRuntime> set, ServerRuntime server)
    {
        lock (_lock)
        {
            return !_disposed && set.Add(server);
        }
    }

    private void Release(HashSet<ServerRuntime> set, ServerRuntime server)
    {
        lock (_lock)
        {
            set.Remove(server);
        }
    }

    private bool TryTrack(Func<Task> start)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return false;
            }
        }
        // Started outside the lock: it may run on synchronously (a connect already done) and report what it found.
        var task = start();
        lock (_lock)
        {
            // Under the lock, so that the removal below cannot slip in between this check and the add.
            if (task.IsCompleted)
            {
                return true;
            }
            _running.Add(task);
        }
        task.ContinueWith(static (finished, state) =>
        {
            var prober = (ServerProber)state!;
            lock (prober._lock)
            {
                prober._running.Remove(finished);
            }
        }, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return true;
    }

    /// <summary>Stops every follow-up, check and probe (they end at once: their connects and waits are cancelled). Safe to call twice.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
        }
        // Not disposed itself: tasks that are just ending may still look at its token.
        _stopping.Cancel();
    }
}
