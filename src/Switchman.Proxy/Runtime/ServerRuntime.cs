using Switchman.Core.Configuration;

namespace Switchman.Proxy.Runtime;

/// <summary>
/// The live state of one server: what the configuration says plus what health checks, passive checks, operators and
/// in-flight requests changed since. Read on the request hot path without locks: every field is a single word that is
/// written atomically; composite decisions (is this server available?) tolerate reading a slightly stale mix.
/// </summary>
internal sealed class ServerRuntime
{
    private readonly TimeProvider _time;
    private readonly InFlightCounter _inFlight = new();
    private int _weight;
    private int _adminState;
    private int _healthy;
    private long _upSinceTimestamp;
    private long _ejectedUntilTimestamp;
    private int _consecutivePassiveFailures;
    private long _requestsTotal;
    private long _lastSignOfLifeTimestamp = long.MinValue;
    private HealthCheckResult? _lastCheck;
    private string? _heldOutBy;

    public ServerRuntime(string backendName, ServerConfig config, bool initiallyHealthy, TimeProvider time)
    {
        _time = time;
        BackendName = backendName;
        Config = config;
        Address = HostPort.Parse(config.Address);
        DestinationPrefix = $"http://{Address}/";
        _weight = config.Weight;
        _adminState = (int)config.State;
        _healthy = initiallyHealthy ? 1 : 0;
        // A server that is up from the start is not ramping: slow start applies to servers that come back.
        _upSinceTimestamp = long.MinValue;
        Suspicion = new ServerSuspicion(time);
    }

    public string BackendName { get; }

    /// <summary>Takes the admin state and weight of <paramref name="config"/>, a definition otherwise the same as this
    /// server's; returns this server, kept with its live state.</summary>
    public ServerRuntime Follow(ServerConfig config)
    {
        AdminState = config.State;
        Weight = config.Weight;
        return this;
    }

    public ServerConfig Config { get; }

    public string Name => Config.Name;

    public HostPort Address { get; }

    /// <summary>The URL prefix YARP forwards to, e.g. http://127.0.0.1:9001/.</summary>
    public string DestinationPrefix { get; }

    public bool IsBackup => Config.Backup;

    /// <summary>How long connecting to this server takes, and so how long a new connect may take.</summary>
    public ConnectTimeEstimator ConnectTimes { get; } = new();

    /// <summary>Whether a recent connect failed or went unanswered: the server is then picked only when nothing else is left.</summary>
    public ServerSuspicion Suspicion { get; }

    public int InFlight => _inFlight.Count;

    /// <summary>Completes when no request is in flight to this server.</summary>
    public Task WhenIdleAsync(CancellationToken cancellationToken) => _inFlight.WhenIdleAsync(cancellationToken);

    public long RequestsTotal => Interlocked.Read(ref _requestsTotal);

    public int Weight
    {
        get => Volatile.Read(ref _weight);
        set => Volatile.Write(ref _weight, value);
    }

    public ServerAdminState AdminState
    {
        get => (ServerAdminState)Volatile.Read(ref _adminState);
        set
        {
            var previous = (ServerAdminState)Interlocked.Exchange(ref _adminState, (int)value);
            if (value == ServerAdminState.Ready && previous != ServerAdminState.Ready)
            {
                // Back from drain or maintenance: ramp up like a server that just came up (HAProxy does the same).
                Interlocked.Exchange(ref _upSinceTimestamp, _time.GetTimestamp());
            }
        }
    }

    /// <summary>Health as decided by active checks (rise/fall).</summary>
    public bool IsHealthy => Volatile.Read(ref _healthy) == 1;

    public HealthCheckResult? LastCheck => Volatile.Read(ref _lastCheck);

    public bool IsEjected(long nowTimestamp) => nowTimestamp < Interlocked.Read(ref _ejectedUntilTimestamp);

    public DateTimeOffset? EjectedUntil
    {
        get
        {
            var until = Interlocked.Read(ref _ejectedUntilTimestamp);
            var now = _time.GetTimestamp();
            return until > now ? _time.GetUtcNow() + _time.GetElapsedTime(now, until) : null;
        }
    }

    /// <summary>
    /// Why this node's supervisor holds the server out of rotation (its service instance here is not running: starting,
    /// restarting, failed, stopped); null while it does not. A process that binds its port before it can answer would
    /// otherwise take requests that wait for it to load, until health checks reach their fall.
    /// </summary>
    public string? HeldOutBy => Volatile.Read(ref _heldOutBy);

    public void HoldOut(string? why) => Volatile.Write(ref _heldOutBy, why);

    /// <summary>Healthy, not ejected, not held out, and not in maintenance: may serve requests (drain still serves sticky ones).</summary>
    public bool IsServing(long nowTimestamp) =>
        IsHealthy && AdminState != ServerAdminState.Maint && !IsEjected(nowTimestamp) && HeldOutBy is null;

    /// <summary>May take new, non-sticky requests.</summary>
    public bool IsAvailable(long nowTimestamp) =>
        AdminState == ServerAdminState.Ready && Weight > 0 && IsHealthy && !IsEjected(nowTimestamp) && HeldOutBy is null;

    /// <summary>When the server last showed it is there: response headers, a connect or a health check that succeeded.</summary>
    public long LastSignOfLifeTimestamp => Volatile.Read(ref _lastSignOfLifeTimestamp);

    /// <summary>The server just answered something (response headers, a connect).</summary>
    public void RecordSignOfLife() => Volatile.Write(ref _lastSignOfLifeTimestamp, _time.GetTimestamp());

    /// <summary>Available and not suspect: the servers a new request goes to while there are any.</summary>
    public bool IsPreferred(long nowTimestamp) => IsAvailable(nowTimestamp) && !Suspicion.IsSuspect;

    /// <summary>
    /// The weight the balancer uses now: the configured weight, ramped linearly from 10% to 100% over the slow-start
    /// period after the server came up (like HAProxy's slowstart), never below 1 while the weight is positive.
    /// </summary>
    public double EffectiveWeight(long nowTimestamp, TimeSpan slowStart)
    {
        var weight = Weight;
        if (weight <= 0 || slowStart <= TimeSpan.Zero)
        {
            return weight;
        }
        var upSince = Interlocked.Read(ref _upSinceTimestamp);
        if (upSince == long.MinValue)
        {
            return weight;
        }
        var elapsed = _time.GetElapsedTime(upSince, nowTimestamp);
        if (elapsed >= slowStart)
        {
            return weight;
        }
        var fraction = 0.1 + (0.9 * elapsed.Ticks / slowStart.Ticks);
        return Math.Max(weight * fraction, Math.Min(1, weight));
    }

    public void BeginRequest()
    {
        _inFlight.Enter();
        Interlocked.Increment(ref _requestsTotal);
    }

    public void EndRequest() => _inFlight.Exit();

    /// <summary>Called by the active health checker when rise/fall decides a transition.</summary>
    public void SetHealthy(bool healthy)
    {
        var previous = Interlocked.Exchange(ref _healthy, healthy ? 1 : 0);
        if (healthy && previous == 0)
        {
            Interlocked.Exchange(ref _upSinceTimestamp, _time.GetTimestamp());
            Interlocked.Exchange(ref _consecutivePassiveFailures, 0);
        }
    }

    public void RecordCheck(HealthCheckResult result)
    {
        Volatile.Write(ref _lastCheck, result);
        if (result.Success)
        {
            RecordSignOfLife();
            Suspicion.Clear($"health check passed ({result.Detail})");
        }
    }

    /// <summary>A successful exchange resets the passive failure count.</summary>
    public void RecordPassiveSuccess()
    {
        if (Volatile.Read(ref _consecutivePassiveFailures) != 0)
        {
            Interlocked.Exchange(ref _consecutivePassiveFailures, 0);
        }
    }

    /// <summary>Counts a transport failure or 5xx; returns the new consecutive count.</summary>
    public int RecordPassiveFailure() => Interlocked.Increment(ref _consecutivePassiveFailures);

    public void Eject(long untilTimestamp)
    {
        Interlocked.Exchange(ref _ejectedUntilTimestamp, untilTimestamp);
        Interlocked.Exchange(ref _consecutivePassiveFailures, 0);
    }
}

/// <summary>The outcome of one active health probe, kept for status reports.</summary>
internal sealed record HealthCheckResult(bool Success, string Detail, DateTimeOffset Time, TimeSpan Duration);
