namespace Switchman.Proxy.Runtime;

/// <summary>Why a server became suspect.</summary>
internal enum SuspicionCause
{
    /// <summary>A connect got no answer within its deadline: the host may be powered off or cut from the network.</summary>
    Silent,

    /// <summary>A connect failed outright (refused, unreachable): nothing listens there now.</summary>
    Refused,
}

/// <summary>
/// Whether a server is suspect: a connect to it just failed or got no answer in time. A suspect server gets new requests
/// only when no other server can take them, from the moment it is suspected — well before health checks could decide
/// anything. It stops being suspect when a connect to it succeeds or a health check passes.
/// When a server falls silent, requests still waiting for its answer hear of it through <see cref="SilenceToken"/>.
/// Lock-free: a flag read on every pick, and a token source replaced each time the server falls silent.
/// </summary>
internal sealed class ServerSuspicion
{
    private readonly TimeProvider _time;
    private int _suspect;
    private long _sinceTimestamp;
    private CancellationTokenSource _silence = new();

    public ServerSuspicion(TimeProvider time) => _time = time;

    /// <summary>Told of every change, with the detail of what happened: the cause when the server became suspect, null when
    /// it stopped being suspect. Set by the connector that serves this server.</summary>
    public Action<SuspicionCause?, string>? Observer { get; set; }

    public bool IsSuspect => Volatile.Read(ref _suspect) == 1;

    /// <summary>When the server became suspect, or null when it is not.</summary>
    public DateTimeOffset? Since
    {
        get
        {
            var since = Interlocked.Read(ref _sinceTimestamp);
            return IsSuspect ? _time.GetUtcNow() - _time.GetElapsedTime(since) : null;
        }
    }

    /// <summary>Cancelled when the server falls silent. A request waiting for an answer registers here for that attempt.</summary>
    public CancellationToken SilenceToken => Volatile.Read(ref _silence).Token;

    /// <summary>Marks the server suspect; when it fell silent, also tells the requests waiting for its answers.</summary>
    public void Suspect(SuspicionCause cause, string detail)
    {
        if (Interlocked.Exchange(ref _suspect, 1) == 0)
        {
            Interlocked.Exchange(ref _sinceTimestamp, _time.GetTimestamp());
            Observer?.Invoke(cause, detail);
        }
        if (cause == SuspicionCause.Silent)
        {
            // Attempts that start from now on wait on a fresh token; those waiting now are told (synchronously: each only
            // cancels its own attempt). The old source has no timer, so it needs no disposing.
            var silenced = Interlocked.Exchange(ref _silence, new CancellationTokenSource());
            silenced.Cancel();
        }
    }

    /// <summary>The server answered a connect or a health check: it takes new requests again.</summary>
    public void Clear(string detail)
    {
        if (Volatile.Read(ref _suspect) == 1 && Interlocked.Exchange(ref _suspect, 0) == 1)
        {
            Observer?.Invoke(null, detail);
        }
    }
}
