using System.Buffers;
using System.Net;
using Switchman.Core.Configuration;
using Switchman.Proxy.Balancing;
using Switchman.Proxy.Diagnostics;
using Switchman.Proxy.Forwarding;
using Yarp.ReverseProxy.Forwarder;

namespace Switchman.Proxy.Runtime;

/// <summary>
/// One backend pool at run time: its servers, its balancer, the HTTP client that talks to its servers and the
/// forwarding settings derived from its configuration. Chooses the server for each attempt.
/// </summary>
internal sealed class BackendRuntime : IDisposable
{
    private readonly ILoadBalancer _balancer;
    private readonly TimeProvider _time;
    private readonly SharedHttpClient _client;
    private readonly InFlightCounter _inFlight = new();

    /// <param name="diagnostics">Where connect events are reported; null: nowhere (tests).</param>
    /// <param name="dialer">Opens TCP connections for a new connection pool; null: real sockets (tests pass a fake).</param>
    public BackendRuntime(BackendConfig config, TimeProvider time, BackendRuntime? previous = null, ProxyDiagnostics? diagnostics = null, ITcpDialer? dialer = null)
    {
        _time = time;
        Config = config;
        var initiallyHealthy = config.Health?.Initial != InitialHealth.Down;
        // A server whose definition did not change keeps its live state (health, ejection, in-flight count) across a
        // change and takes its new admin state and weight (an operator's override, or the configuration's); any other
        // server starts afresh, in the state and with the weight the configuration gives it.
        Servers = [.. config.Servers.Select(s =>
            previous?.FindServer(s.Name) is { } kept && kept.Config.SameDefinitionAs(s) && previous.Config.Health == config.Health
                ? kept.Follow(s)
                : new ServerRuntime(config.Name, s, initiallyHealthy, time))];
        _balancer = CreateBalancer(config, Servers);
        // The connection pool reads the configuration live (through its connector): keep it, its warm connections and
        // what it learnt about the servers, whatever changed.
        _client = previous?._client.Share() ?? new SharedHttpClient(time, diagnostics, dialer);
        ForwarderConfig = new ForwarderRequestConfig
        {
            ActivityTimeout = config.Timeouts.PerTry,
            // Backends are plain HTTP/1.1 REST servers; HTTP/2 towards them would need prior knowledge.
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        RetryOnStatus = [.. config.Retry.OnStatus];
    }

    public BackendConfig Config { get; }

    public string Name => Config.Name;

    public ServerRuntime[] Servers { get; }

    public HttpMessageInvoker HttpClient => _client.Invoker;

    /// <summary>Opens this backend's connections and checks on its servers.</summary>
    public BackendConnector Connector => _client.Connector;

    /// <summary>How long a connect to <paramref name="server"/> may take before the server counts as silent.</summary>
    public TimeSpan ConnectDeadline(ServerRuntime server) => _client.Connector.DeadlineFor(server);

    /// <summary>A request waits for <paramref name="server"/>'s answer unusually long: check that its host is still there.</summary>
    public void CheckLiveness(ServerRuntime server) => _client.Connector.CheckLiveness(server);

    /// <summary>Makes this runtime the one whose servers the connection pool serves (its connects, suspicions and probes).
    /// Called when the configuration it belongs to goes live, not before: a change that is refused never takes the pool.</summary>
    public void Activate() => _client.Connector.Attach(this);

    /// <summary>Requests being forwarded through this runtime right now (all servers, all attempts).</summary>
    public int InFlight => _inFlight.Count;

    /// <summary>Completes when no request is forwarded through this runtime any more.</summary>
    public Task WhenIdleAsync(CancellationToken cancellationToken) => _inFlight.WhenIdleAsync(cancellationToken);

    public void BeginRequest() => _inFlight.Enter();

    public void EndRequest() => _inFlight.Exit();

    public ForwarderRequestConfig ForwarderConfig { get; }

    public HashSet<int> RetryOnStatus { get; }

    public ServerRuntime? FindServer(string name)
    {
        foreach (var server in Servers)
        {
            if (server.Name == name)
            {
                return server;
            }
        }
        return null;
    }

    /// <summary>
    /// Picks the server for the next attempt. Preference order:
    /// the sticky server if it still serves (drain included, as HAProxy does); available primaries not yet tried;
    /// backups not yet tried (only when no primary is available, or every available primary already failed this request);
    /// finally any available server again, so a lone server still gets its retry.
    /// Suspect servers (a connect to them just failed or went unanswered) are left out of all of that, and are picked,
    /// in the same order, only when nothing else is left.
    /// </summary>
    public ServerRuntime? Pick(in BalancingKey key, string? stickyServer, ReadOnlySpan<ServerRuntime?> tried)
    {
        var now = _time.GetTimestamp();
        if (stickyServer is not null)
        {
            var sticky = FindServer(stickyServer);
            if (sticky is not null && sticky.IsServing(now) && !sticky.Suspicion.IsSuspect && !Contains(tried, sticky))
            {
                return sticky;
            }
        }

        var servers = Servers;
        var buffer = ArrayPool<ServerRuntime>.Shared.Rent(servers.Length);
        try
        {
            return PickFrom(servers, buffer, key, tried, now, suspectsToo: false)
                ?? PickFrom(servers, buffer, key, tried, now, suspectsToo: true);
        }
        finally
        {
            Array.Clear(buffer, 0, servers.Length);
            ArrayPool<ServerRuntime>.Shared.Return(buffer);
        }
    }

    /// <summary>True when a server other than <paramref name="server"/> could take a new request now without being suspect.</summary>
    public bool HasPreferredServerBesides(ServerRuntime server)
    {
        var now = _time.GetTimestamp();
        foreach (var other in Servers)
        {
            if (!ReferenceEquals(other, server) && other.IsPreferred(now))
            {
                return true;
            }
        }
        return false;
    }

    private ServerRuntime? PickFrom(ServerRuntime[] servers, ServerRuntime[] buffer, in BalancingKey key, ReadOnlySpan<ServerRuntime?> tried, long now, bool suspectsToo)
    {
        var anyPrimaryAvailable = false;
        var count = 0;
        foreach (var server in servers)
        {
            if (!server.IsBackup && IsCandidate(server, now, suspectsToo))
            {
                anyPrimaryAvailable = true;
                if (!Contains(tried, server))
                {
                    buffer[count++] = server;
                }
            }
        }
        if (count == 0)
        {
            foreach (var server in servers)
            {
                if (server.IsBackup && IsCandidate(server, now, suspectsToo) && !Contains(tried, server))
                {
                    buffer[count++] = server;
                }
            }
        }
        if (count == 0)
        {
            // Everything available has been tried once; a second try on the same server beats giving up.
            foreach (var server in servers)
            {
                if (server.IsBackup != anyPrimaryAvailable && IsCandidate(server, now, suspectsToo))
                {
                    buffer[count++] = server;
                }
            }
        }
        return count == 0 ? null : _balancer.Pick(buffer.AsSpan(0, count), key, now);
    }

    private static bool IsCandidate(ServerRuntime server, long now, bool suspectsToo) =>
        suspectsToo ? server.IsAvailable(now) : server.IsPreferred(now);

    private static bool Contains(ReadOnlySpan<ServerRuntime?> tried, ServerRuntime server)
    {
        foreach (var t in tried)
        {
            if (ReferenceEquals(t, server))
            {
                return true;
            }
        }
        return false;
    }

    private static ILoadBalancer CreateBalancer(BackendConfig config, IReadOnlyList<ServerRuntime> servers) => config.Balance switch
    {
        BalanceAlgorithm.RoundRobin => new SmoothWeightedRoundRobin(config.SlowStart),
        BalanceAlgorithm.LeastConn => new LeastConnections(config.SlowStart),
        BalanceAlgorithm.Random => new RandomTwoChoices(config.SlowStart),
        BalanceAlgorithm.Source => ConsistentHash.BySource(servers),
        BalanceAlgorithm.Uri => ConsistentHash.ByUri(servers),
        _ => throw new ArgumentOutOfRangeException(nameof(config), config.Balance, "unknown balance algorithm"),
    };

    public void Dispose() => _client.Release();
}
