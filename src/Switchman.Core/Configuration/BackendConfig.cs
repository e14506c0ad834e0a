namespace Switchman.Core.Configuration;

/// <summary>A pool of servers that serve the same REST service.</summary>
public sealed record BackendConfig
{
    public required string Name { get; init; }

    public BalanceAlgorithm Balance { get; init; } = BalanceAlgorithm.RoundRobin;

    public ValueList<ServerConfig> Servers { get; init; } = ValueList<ServerConfig>.Empty;

    /// <summary>Active health checks; absent means servers are taken as healthy unless passive checks eject them.</summary>
    public HealthCheckConfig? Health { get; init; }

    /// <summary>Outlier ejection from live traffic; absent means off.</summary>
    public PassiveHealthConfig? Passive { get; init; }

    public RetryConfig Retry { get; init; } = new();

    public BackendTimeouts Timeouts { get; init; } = new();

    /// <summary>A server that comes up ramps from a low weight to its full weight over this period. Zero: off.</summary>
    public TimeSpan SlowStart { get; init; } = TimeSpan.Zero;

    /// <summary>Cookie-based session affinity; absent means off.</summary>
    public StickyConfig? Sticky { get; init; }
}

public enum BalanceAlgorithm
{
    /// <summary>Smooth weighted round robin.</summary>
    RoundRobin,

    /// <summary>Fewest in-flight requests relative to weight.</summary>
    LeastConn,

    /// <summary>Two weighted random choices, the less loaded wins.</summary>
    Random,

    /// <summary>Consistent hash of the client IP address.</summary>
    Source,

    /// <summary>Consistent hash of the request path.</summary>
    Uri,
}

public sealed record ServerConfig
{
    public required string Name { get; init; }

    /// <summary>host:port of the server (IP literal or host name).</summary>
    public required string Address { get; init; }

    /// <summary>Relative share of traffic, 0..256. Weight 0 takes no new traffic except sticky sessions.</summary>
    public int Weight { get; init; } = 1;

    /// <summary>Backup servers get traffic only when no primary server is available.</summary>
    public bool Backup { get; init; }

    /// <summary>Administrative state at start-up.</summary>
    public ServerAdminState State { get; init; } = ServerAdminState.Ready;

    /// <summary>Equal but for <see cref="State"/> and <see cref="Weight"/>, which a running server can take without
    /// being replaced (they are also what operators override at run time).</summary>
    public bool SameDefinitionAs(ServerConfig other) =>
        other is not null && this with { State = other.State, Weight = other.Weight } == other;
}

public enum ServerAdminState
{
    /// <summary>Takes traffic.</summary>
    Ready,

    /// <summary>Takes no new requests (sticky ones excepted); in-flight ones finish.</summary>
    Drain,

    /// <summary>Takes nothing.</summary>
    Maint,
}

public sealed record HealthCheckConfig
{
    public HealthCheckType Type { get; init; } = HealthCheckType.Http;

    public string Method { get; init; } = "GET";

    public string Path { get; init; } = "/";

    /// <summary>Host header for HTTP checks; absent uses the server address.</summary>
    public string? Host { get; init; }

    /// <summary>Statuses that count as healthy: single codes or ranges like 200-399.</summary>
    public ValueList<StatusRange> ExpectStatus { get; init; } = ValueList.Create(new StatusRange(200, 399));

    /// <summary>Text the response body must contain (ordinal), like HAProxy's <c>http-check expect string</c>.</summary>
    public string? ExpectBody { get; init; }

    /// <summary>A .NET regular expression the response body must match, like <c>http-check expect rstring</c>.</summary>
    public string? ExpectBodyRegex { get; init; }

    /// <summary>Turns the body match around: the text or pattern must not be found, like <c>http-check expect ! string</c>.</summary>
    public bool ExpectBodyAbsent { get; init; }

    /// <summary>Request headers sent with every HTTP check, in file order.</summary>
    public ValueList<HealthCheckHeader> Headers { get; init; } = ValueList<HealthCheckHeader>.Empty;

    /// <summary>How much of the response body a body match reads; the rest is not looked at.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>How long one regular-expression match of the body may run before the check fails.</summary>
    public static readonly TimeSpan BodyRegexTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>The Host header of the check: <see cref="Host"/>, or a <c>Host</c> entry in <see cref="Headers"/>; null uses the server address.</summary>
    public string? EffectiveHost => Host ?? Headers.FirstOrDefault(h => string.Equals(h.Name, "Host", StringComparison.OrdinalIgnoreCase))?.Value;

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Interval while a server is in transition (some, but not enough, consecutive results). Default: Interval.</summary>
    public TimeSpan? FastInterval { get; init; }

    /// <summary>Interval while a server is down. Default: Interval.</summary>
    public TimeSpan? DownInterval { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Consecutive successes that bring a down server up.</summary>
    public int Rise { get; init; } = 2;

    /// <summary>Consecutive failures that take an up server down.</summary>
    public int Fall { get; init; } = 3;

    /// <summary>Health a server has before its first check.</summary>
    public InitialHealth Initial { get; init; } = InitialHealth.Up;

    public TimeSpan EffectiveFastInterval => FastInterval ?? Interval;

    public TimeSpan EffectiveDownInterval => DownInterval ?? Interval;
}

/// <summary>One request header of an HTTP health check.</summary>
public sealed record HealthCheckHeader
{
    public required string Name { get; init; }

    public required string Value { get; init; }
}

public enum HealthCheckType
{
    Http,
    Tcp,
}

public enum InitialHealth
{
    Up,
    Down,
}

public readonly record struct StatusRange(int From, int To)
{
    public bool Contains(int status) => status >= From && status <= To;

    public override string ToString() => From == To ? From.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{From}-{To}";
}

public sealed record PassiveHealthConfig
{
    /// <summary>Consecutive transport failures or 5xx responses that eject a server.</summary>
    public int ConsecutiveFailures { get; init; } = 5;

    /// <summary>How long an ejected server gets no traffic.</summary>
    public TimeSpan EjectFor { get; init; } = TimeSpan.FromSeconds(30);
}

public sealed record RetryConfig
{
    /// <summary>Further attempts after the first one, each on a different server while one is left.</summary>
    public int Retries { get; init; } = 2;

    /// <summary>Response statuses that are retried like a failed attempt (e.g. 502, 503, 504). Default: none.</summary>
    public ValueList<int> OnStatus { get; init; } = ValueList<int>.Empty;

    /// <summary>Request bodies up to this many bytes are buffered so a retry can replay them; larger ones stream and are
    /// retried only when no connection was made.</summary>
    public long BufferBody { get; init; } = 64 * 1024;
}

public sealed record BackendTimeouts
{
    /// <summary>
    /// The longest a TCP connection to a server may take (HAProxy's <c>timeout connect</c>). It is a ceiling: a request
    /// that another server can take moves on once the server's own usual connect time has passed, while the connect
    /// goes on up to this (see docs/configuration.md, "Connecting to servers").
    /// </summary>
    public TimeSpan Connect { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Longest a single attempt may wait on the server with no progress (no response headers, no body bytes).</summary>
    public TimeSpan PerTry { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>No new attempt starts once this much time has passed since the request arrived.</summary>
    public TimeSpan Total { get; init; } = TimeSpan.FromSeconds(60);
}

public sealed record StickyConfig
{
    public string Cookie { get; init; } = "SWITCHMAN_SERVER";
}
