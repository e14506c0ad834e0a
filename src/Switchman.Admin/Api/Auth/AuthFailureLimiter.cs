using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Switchman.Admin.Api.Auth;

/// <summary>
/// Failed authentications per source address (a bearer token missing or unknown, a node-to-node signature that does
/// not check out), as a token bucket: a burst of <see cref="Burst"/> failures, then one per <see cref="RefillEvery"/>.
/// An address past that is <em>limited</em>: its requests that fail authentication get 429 with Retry-After, and so does
/// any credential it has not used successfully before, valid or not — a guess that hits is answered like one that
/// misses, so guessing from there gains nothing and costs a second a guess. A credential the address has already used
/// successfully is still served: the CLI, dashboard or script that works there is not slowed by the one that fails
/// beside it. Other addresses are not affected.
/// </summary>
/// <remarks>
/// An address is an IPv4 address, or an IPv6 /64 (what one host usually has). At most <see cref="MaxSources"/>
/// addresses are tracked; an address whose bucket is full again carries nothing a new one would not, and is dropped
/// when room is needed. While every tracked address is busy failing, new ones share one bucket. Nothing here logs or
/// keeps a token: credentials are known by the token's name or the signing node's id.
/// </remarks>
public sealed class AuthFailureLimiter
{
    public const string MeterName = "Switchman.Admin";

    /// <summary>Failures an address may make at once.</summary>
    public const int Burst = 10;

    /// <summary>After the burst, one more failure per this.</summary>
    public static readonly TimeSpan RefillEvery = TimeSpan.FromSeconds(1);

    /// <summary>Addresses tracked at once (each some hundred bytes).</summary>
    public const int MaxSources = 4096;

    /// <summary>Credentials remembered per address: more than a node has tokens.</summary>
    private const int MaxKnownPerSource = 32;

    private static readonly IPAddress Unknown = IPAddress.IPv6None;

    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, Source> _sources = [];
    private readonly Source _overflow;
    private readonly TimeProvider _time;
    private readonly ILogger<AuthFailureLimiter> _logger;
    private readonly Counter<long> _failures;

    public AuthFailureLimiter(TimeProvider time, ILogger<AuthFailureLimiter> logger, IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(meterFactory);
        _time = time;
        _logger = logger;
        _overflow = new Source("(addresses beyond the tracked ones)", time.GetTimestamp());
        _failures = meterFactory.Create(MeterName).CreateCounter<long>("switchman.admin.auth.failures", "{request}",
            "Admin API requests that failed authentication, by answer: unauthorized (401) or limited (429, the address made too many failures).");
    }

    /// <summary>Addresses tracked now (for tests of the bound).</summary>
    public int TrackedSources
    {
        get
        {
            lock (_lock)
            {
                return _sources.Count;
            }
        }
    }

    /// <summary>
    /// A credential that checked out (<c>token ops</c>, <c>node n2</c>): true when it may be served, false when the
    /// address is limited and has never used it before (answer with <see cref="Refuse"/>).
    /// </summary>
    public bool Admit(IPAddress? address, string credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        lock (_lock)
        {
            var source = Find(address);
            if (source.IsLimited)
            {
                return source.Known.Contains(credential);
            }
            if (source.Known.Count < MaxKnownPerSource)
            {
                source.Known.Add(credential);
            }
            return true;
        }
    }

    /// <summary>
    /// Whether a request that claims <paramref name="credential"/> is worth checking at all: false when the address is
    /// limited and never used it, so that nothing of the request (a body to verify a signature over) need be read.
    /// </summary>
    public bool MayTry(IPAddress? address, string credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        lock (_lock)
        {
            var source = Find(address);
            return !source.IsLimited || source.Known.Contains(credential);
        }
    }

    /// <summary>
    /// A request that failed authentication: null when the address had a failure left (answer 401), else how long
    /// until it has one again (answer 429 with that as Retry-After).
    /// </summary>
    public TimeSpan? Fail(IPAddress? address)
    {
        TimeSpan? wait = null;
        string? lockedOut = null;
        lock (_lock)
        {
            var source = Find(address);
            if (source.IsLimited)
            {
                (wait, lockedOut) = Limit(source);
            }
            else
            {
                source.Failures--;
            }
        }
        Report(wait, lockedOut);
        return wait;
    }

    /// <summary>A request from a limited address that <see cref="Admit"/> or <see cref="MayTry"/> refused: how long until it has a failure left.</summary>
    public TimeSpan Refuse(IPAddress? address)
    {
        TimeSpan wait;
        string? lockedOut;
        lock (_lock)
        {
            (wait, lockedOut) = Limit(Find(address));
        }
        Report(wait, lockedOut);
        return wait;
    }

    /// <summary>Under the lock: the wait, and the address's name when this refusal starts a lockout.</summary>
    private static (TimeSpan Wait, string? LockedOut) Limit(Source source)
    {
        var first = !source.LockedOut;
        source.LockedOut = true;
        return (RefillEvery * Math.Max(0, 1 - source.Failures), first ? source.Name : null);
    }

    private void Report(TimeSpan? wait, string? lockedOut)
    {
        _failures.Add(1, new KeyValuePair<string, object?>("outcome", wait is null ? "unauthorized" : "limited"));
        if (lockedOut is not null)
        {
            // Once per lockout, which ends when the address has its whole burst again: not once per refused request.
            AdminApiLog.SourceLimited(_logger, lockedOut, Burst, RefillEvery.TotalSeconds);
        }
    }

    /// <summary>The address's bucket, refilled to now; under the lock.</summary>
    private Source Find(IPAddress? address)
    {
        var key = KeyOf(address);
        var now = _time.GetTimestamp();
        if (!_sources.TryGetValue(key, out var source))
        {
            if (_sources.Count >= MaxSources)
            {
                DropIdle(now);
            }
            if (_sources.Count >= MaxSources)
            {
                source = _overflow;
            }
            else
            {
                source = new Source(NameOf(key), now);
                _sources[key] = source;
            }
        }
        source.Refill(_time.GetElapsedTime(source.RefilledAt, now), now);
        return source;
    }

    private void DropIdle(long now)
    {
        foreach (var (key, source) in _sources)
        {
            source.Refill(_time.GetElapsedTime(source.RefilledAt, now), now);
            if (source.Failures >= Burst)
            {
                _sources.Remove(key);
            }
        }
    }

    /// <summary>IPv4 as it is (also when mapped into IPv6); IPv6 by its /64, the block one host usually has.</summary>
    private static IPAddress KeyOf(IPAddress? address)
    {
        if (address is null)
        {
            return Unknown;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes);
    }

    private static string NameOf(IPAddress key) =>
        key.Equals(Unknown) ? "(unknown address)" : key.AddressFamily == AddressFamily.InterNetworkV6 ? $"{key}/64" : key.ToString();

    private sealed class Source(string name, long now)
    {
        public string Name { get; } = name;

        /// <summary>Failures left; a fraction is a failure on its way back.</summary>
        public double Failures { get; set; } = Burst;

        public long RefilledAt { get; private set; } = now;

        /// <summary>Refused since its bucket was last full: the lockout was logged.</summary>
        public bool LockedOut { get; set; }

        /// <summary>Credentials that succeeded from here (token and node names, never a token).</summary>
        public HashSet<string> Known { get; } = new(StringComparer.Ordinal);

        public bool IsLimited => Failures < 1;

        public void Refill(TimeSpan elapsed, long now)
        {
            Failures = Math.Min(Burst, Failures + (elapsed / RefillEvery));
            RefilledAt = now;
            if (Failures >= Burst)
            {
                LockedOut = false;
            }
        }
    }
}
