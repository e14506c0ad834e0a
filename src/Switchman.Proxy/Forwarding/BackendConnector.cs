using System.Globalization;
using System.Net;
using System.Net.Http;
using Switchman.Proxy.Diagnostics;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Forwarding;

/// <summary>
/// Opens the TCP connections of one backend's connection pool (its <see cref="SocketsHttpHandler.ConnectCallback"/>),
/// and finds out quickly when a server stops answering.
/// <list type="bullet">
/// <item>Each connect to a server is given that server's usual connect time (<see cref="ConnectTimeEstimator"/>, at
/// least 50 ms). When no answer has come by then, the server becomes suspect at once and, if another server can take
/// the request, the request moves on to it — nothing was sent, so any method may — while this connect goes on in the
/// background, up to <c>timeouts.connect</c>, as a probe (<see cref="ServerProber"/>). A slow but live server is thus
/// not given up: its late connection clears the suspicion and teaches the estimate. A request that cannot go elsewhere
/// (its last attempt, no other server) waits up to <c>timeouts.connect</c>, as before.</item>
/// <item>Requests already sent on open connections are not forgotten: one that waits for its answer longer than that
/// same deadline, while the server has shown no sign of life since it was sent, has the server checked with a connect
/// (<see cref="CheckLiveness"/>), which only the server's kernel has to answer.</item>
/// </list>
/// One per connection pool; it serves the servers of the backend runtime that uses the pool now.
/// </summary>
internal sealed class BackendConnector : IDisposable
{
    /// <summary>The connect ceiling for a connection to a server the current configuration no longer has.</summary>
    private static readonly TimeSpan DefaultCeiling = new Switchman.Core.Configuration.BackendTimeouts().Connect;

    private readonly ITcpDialer _dialer;
    private readonly TimeProvider _time;
    private readonly ProxyDiagnostics? _diagnostics;
    private readonly ServerProber _prober;
    private volatile BackendRuntime? _backend;

    public BackendConnector(TimeProvider time, ProxyDiagnostics? diagnostics, ITcpDialer? dialer = null)
    {
        _time = time;
        _diagnostics = diagnostics;
        _dialer = dialer ?? SocketDialer.Instance;
        _prober = new ServerProber(this, _dialer, time);
    }

    /// <summary>How long a connect may take at most: the backend's <c>timeouts.connect</c>.</summary>
    internal TimeSpan Ceiling => _backend?.Config.Timeouts.Connect ?? DefaultCeiling;

    /// <summary>Serves the servers of <paramref name="backend"/> from now on (a configuration change hands the pool over).</summary>
    public void Attach(BackendRuntime backend)
    {
        foreach (var server in backend.Servers)
        {
            server.Suspicion.Observer = (cause, detail) => ReportSuspicion(server, cause, detail);
        }
        _backend = backend;
    }

    /// <summary>True while <paramref name="server"/> belongs to the configuration this pool serves.</summary>
    internal bool Serves(ServerRuntime server) => _backend?.Servers.Contains(server) ?? false;

    /// <summary>The pool's connect callback.</summary>
    public ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken) =>
        ConnectAsync(context.DnsEndPoint, context.InitialRequestMessage, cancellationToken);

    /// <summary>Opens a connection to <paramref name="endPoint"/> for the pool, on behalf of <paramref name="request"/>.</summary>
    internal async ValueTask<Stream> ConnectAsync(DnsEndPoint endPoint, HttpRequestMessage? request, CancellationToken cancellationToken)
    {
        var backend = _backend;
        var server = backend is null ? null : FindServer(backend, endPoint);
        var ceiling = Ceiling;
        // The connect's own life: it ends at the ceiling, whoever is still waiting for it.
        var lifetime = new CancellationTokenSource(ceiling, _time);
        var started = _time.GetTimestamp();
        TcpDial dial;
        try
        {
            dial = _dialer.Dial(endPoint, lifetime.Token);
        }
        catch
        {
            lifetime.Dispose();
            throw;
        }

        var handedOver = false;
        try
        {
            if (server is not null && backend is not null)
            {
                var deadline = DeadlineFor(server, backend, ceiling);
                if (deadline < ceiling && !await dial.AnsweredWithinAsync(deadline, _time, cancellationToken).ConfigureAwait(false))
                {
                    server.Suspicion.Suspect(SuspicionCause.Silent,
                        string.Create(CultureInfo.InvariantCulture, $"no answer to a connect within {deadline.TotalMilliseconds:0} ms"));
                    if (MayMoveOn(server, backend, request))
                    {
                        _prober.FollowUp(server, dial, lifetime, started);
                        handedOver = true;
                        throw new ConnectDeadlineExceededException(string.Create(CultureInfo.InvariantCulture,
                            $"No connection to {server.BackendName}/{server.Name} within {deadline.TotalMilliseconds:0} ms; moving on while the connect goes on"));
                    }
                }
            }
            var stream = await dial.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (server is not null)
            {
                Succeeded(server, dial, started);
            }
            return stream;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !handedOver)
        {
            // The pool no longer needs this connection (disposed, or the request that asked was served by another one).
            // Let the connect finish on its own: as a probe if the server is suspect, otherwise only to be closed.
            _prober.FollowUp(server is { Suspicion.IsSuspect: true } ? server : null, dial, lifetime, started);
            handedOver = true;
            throw;
        }
        catch (Exception e) when (!handedOver && server is not null)
        {
            Failed(server, e, lifetime.IsCancellationRequested);
            if (lifetime.IsCancellationRequested)
            {
                // Reported as a connection error (never connected, so the request may go elsewhere), not as a cancellation.
                throw new ConnectDeadlineExceededException(string.Create(CultureInfo.InvariantCulture,
                    $"No connection to {server.BackendName}/{server.Name} within timeouts.connect ({ceiling.TotalMilliseconds:0} ms)"), e);
            }
            throw;
        }
        finally
        {
            if (!handedOver)
            {
                lifetime.Dispose();
            }
        }
    }

    /// <summary>
    /// A request has waited for <paramref name="server"/>'s answer longer than a connect to it may take, and the server
    /// has shown no sign of life since the request was sent: find out with a connect whether its host is still there.
    /// </summary>
    public void CheckLiveness(ServerRuntime server) => _prober.CheckLiveness(server);

    /// <summary>How long a connect to <paramref name="server"/> may take before the server counts as silent.</summary>
    public TimeSpan DeadlineFor(ServerRuntime server) =>
        _backend is { } backend ? DeadlineFor(server, backend, Ceiling) : server.ConnectTimes.Deadline(Ceiling);

    /// <summary>A connect to <paramref name="server"/> succeeded: learn its duration, and the server is not suspect.</summary>
    internal void Succeeded(ServerRuntime server, TcpDial dial, long startedTimestamp)
    {
        var duration = dial.HandshakeRoundTrip ?? _time.GetElapsedTime(startedTimestamp);
        server.RecordSignOfLife();
        server.ConnectTimes.Record(duration);
        _diagnostics?.Metrics.ConnectCompleted(server, duration);
        server.Suspicion.Clear(string.Create(CultureInfo.InvariantCulture, $"connected in {duration.TotalMilliseconds:0.0} ms"));
    }

    /// <summary>A connect to <paramref name="server"/> failed or reached the ceiling: suspect, and probed until it answers.</summary>
    internal void Failed(ServerRuntime server, Exception error, bool reachedCeiling)
    {
        var cause = reachedCeiling ? SuspicionCause.Silent : SuspicionCause.Refused;
        server.Suspicion.Suspect(cause, reachedCeiling
            ? string.Create(CultureInfo.InvariantCulture, $"no answer to a connect within timeouts.connect ({Ceiling.TotalMilliseconds:0} ms)")
            : Describe(error));
        _prober.KeepProbing(server);
    }

    internal void ProbeFailed(ServerRuntime server, string detail)
    {
        if (_diagnostics is { } diagnostics)
        {
            ConnectLog.ProbeFailed(diagnostics.Logger, server.BackendName, server.Name, detail);
        }
    }

    /// <summary>
    /// How long a connect to <paramref name="server"/> may take before the request moves on: what its own connects showed,
    /// or, before its first one, what the backend's other servers showed (servers of one backend usually share a network).
    /// </summary>
    private static TimeSpan DeadlineFor(ServerRuntime server, BackendRuntime backend, TimeSpan ceiling)
    {
        TimeSpan? prior = null;
        if (!server.ConnectTimes.HasSamples)
        {
            foreach (var other in backend.Servers)
            {
                if (other.ConnectTimes.Learned is { } learned && (prior is null || learned > prior))
                {
                    prior = learned;
                }
            }
        }
        return server.ConnectTimes.Deadline(ceiling, prior);
    }

    /// <summary>A request may stop waiting when it has somewhere else to go: retries allowed, attempts left, another server.</summary>
    private static bool MayMoveOn(ServerRuntime server, BackendRuntime backend, HttpRequestMessage? request) =>
        backend.Config.Retry.Retries > 0 && !ConnectIntent.MustWait(request) && backend.HasPreferredServerBesides(server);

    private static ServerRuntime? FindServer(BackendRuntime backend, DnsEndPoint endPoint)
    {
        // SocketsHttpHandler keeps the brackets of an IPv6 host; the configuration's host has none.
        var host = endPoint.Host.AsSpan().Trim("[]");
        foreach (var server in backend.Servers)
        {
            if (server.Address.Port == endPoint.Port && host.Equals(server.Address.Host, StringComparison.OrdinalIgnoreCase))
            {
                return server;
            }
        }
        return null;
    }

    private void ReportSuspicion(ServerRuntime server, SuspicionCause? cause, string detail)
    {
        if (_diagnostics is not { } diagnostics)
        {
            return;
        }
        if (cause is { } suspected)
        {
            ConnectLog.ServerSuspect(diagnostics.Logger, server.BackendName, server.Name, suspected == SuspicionCause.Silent ? "silent" : "refused", detail);
            diagnostics.Metrics.Suspected(server, suspected);
        }
        else
        {
            ConnectLog.ServerNoLongerSuspect(diagnostics.Logger, server.BackendName, server.Name, detail);
        }
    }

    /// <summary>A failed connect in a few words: the failure classifier's account, as health checks and attempt lines give it.</summary>
    internal static string Describe(Exception error) => FailureReasons.Classify(error).Detail;

    /// <summary>Background probes running now (for tests).</summary>
    internal int RunningProbes => _prober.Running;

    /// <summary>Stops the probes; the pool itself is disposed by its owner.</summary>
    public void Dispose() => _prober.Dispose();
}
