using System.Diagnostics;
using System.Diagnostics.Metrics;
using Switchman.Core.Configuration;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Diagnostics;

/// <summary>
/// The data plane's instruments, created through IMeterFactory with OpenTelemetry-style names and units.
/// The Prometheus exporter turns <c>switchman.proxy.requests</c> into <c>switchman_proxy_requests_total</c>.
/// </summary>
internal sealed class ProxyMetrics
{
    public const string MeterName = "Switchman.Proxy";

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _requestDuration;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _redispatches;
    private readonly Counter<long> _serverFailures;
    private readonly Counter<long> _healthTransitions;
    private readonly Counter<long> _healthChecks;
    private readonly Counter<long> _ejections;
    private readonly Histogram<double> _connectDuration;
    private readonly Counter<long> _suspicions;
    private readonly Histogram<double> _healthCheckDuration;
    private readonly Meter _meter;

    /// <summary>The states <c>switchman_server_state</c> reports, one series each.</summary>
    private static readonly string[] ServerStates = ["up", "down", "drain", "maint"];

    public ProxyMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _meter = meter;
        _requests = meter.CreateCounter<long>("switchman.proxy.requests", "{request}",
            "Requests answered, by frontend, backend, server and status class.");
        _requestDuration = meter.CreateHistogram<double>("switchman.proxy.request.duration", "s",
            "Time from request arrival to the end of the response, all attempts included.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        _retries = meter.CreateCounter<long>("switchman.proxy.retries", "{attempt}",
            "Attempts that failed and were tried again, by backend and the server that failed.");
        _redispatches = meter.CreateCounter<long>("switchman.proxy.redispatches", "{attempt}",
            "Retries that went to a different server than the failed attempt.");
        _serverFailures = meter.CreateCounter<long>("switchman.server.failures", "{failure}",
            "Failed attempts on a server, by kind: connect, timeout, reset, status, silent.");
        _healthTransitions = meter.CreateCounter<long>("switchman.server.health.transitions", "{transition}",
            "Active health check transitions, by the state entered (up or down).");
        _healthChecks = meter.CreateCounter<long>("switchman.server.health.checks", "{check}",
            "Active health checks run, by result: ok, or why the check failed (status, timeout, connect_timeout, refused, reset, unreachable, name_resolution, protocol, error).");
        _ejections = meter.CreateCounter<long>("switchman.server.ejections", "{ejection}",
            "Passive health ejections (outlier detection).");
        _connectDuration = meter.CreateHistogram<double>("switchman.server.connect.duration", "s",
            "Time to open a TCP connection to a server, for connects that succeeded.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
        _suspicions = meter.CreateCounter<long>("switchman.server.suspicions", "{suspicion}",
            "Times a server became suspect, by cause: silent (a connect got no answer in time) or refused.");
        _healthCheckDuration = meter.CreateHistogram<double>("switchman.server.health.check.duration", "s",
            "How long each active health check of a server took, by whether it passed (ok: true or false).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
    }

    /// <summary>
    /// Observable gauges read from the running servers at each collection (nothing is paid per request):
    /// each server's state, weight and requests in flight, and each backend's configured and available servers.
    /// </summary>
    /// <param name="runtime">The runtime the data plane runs now.</param>
    public void ObserveServers(Func<ProxyRuntime> runtime, TimeProvider time)
    {
        _meter.CreateObservableGauge("switchman.server.state", () => ServerStateMeasurements(runtime(), time.GetTimestamp()), "{state}",
            "1 for the state a server is in now, 0 for the others: up, down, drain, maint. The administrative state wins over "
            + "health: a server in maint or drain reports that state whatever its health checks say; a ready server reports up or down "
            + "by its health checks (and a passive ejection counts as down).");
        _meter.CreateObservableGauge("switchman.server.weight", () => runtime().Backends.Values.SelectMany(b => b.Servers)
            .Select(s => new Measurement<int>(s.Weight, ServerTags(s))), "{weight}",
            "The weight a server runs with now (configured, or as an operator set it).");
        _meter.CreateObservableGauge("switchman.backend.servers", () => runtime().Backends.Values
            .Select(b => new Measurement<int>(b.Servers.Length, new KeyValuePair<string, object?>("backend", b.Name))), "{server}",
            "Servers configured in a backend.");
        // Read from the servers' own in-flight counts (which drains wait on) rather than measured twice per request.
        _meter.CreateObservableUpDownCounter("switchman.server.active_requests", () => runtime().Backends.Values.SelectMany(b => b.Servers)
            .Select(s => new Measurement<int>(s.InFlight, ServerTags(s))), "{request}",
            "Requests in flight to a server.");
        _meter.CreateObservableGauge("switchman.backend.servers_available", () => AvailableMeasurements(runtime(), time.GetTimestamp()), "{server}",
            "Servers of a backend that can take a new request now: ready, weight above 0, up by its health checks, not ejected (backup servers included).");
    }

    /// <summary>
    /// The state an operator reads: maint and drain win over health; a ready server is up, or down while its checks
    /// fail, a passive check has ejected it, or it is held out (its instance on this node is not running yet): then
    /// it takes no request, as <c>switchman_backend_servers_available</c> counts it.
    /// </summary>
    public static string ServerState(ServerRuntime server, long now) => server.AdminState switch
    {
        ServerAdminState.Maint => "maint",
        ServerAdminState.Drain => "drain",
        _ => server.IsHealthy && !server.IsEjected(now) && server.HeldOutBy is null ? "up" : "down",
    };

    private static IEnumerable<Measurement<int>> ServerStateMeasurements(ProxyRuntime runtime, long now)
    {
        foreach (var server in runtime.Backends.Values.SelectMany(b => b.Servers))
        {
            var current = ServerState(server, now);
            foreach (var state in ServerStates)
            {
                yield return new Measurement<int>(state == current ? 1 : 0, ServerTags(server, ("state", state)));
            }
        }
    }

    private static IEnumerable<Measurement<int>> AvailableMeasurements(ProxyRuntime runtime, long now) =>
        runtime.Backends.Values.Select(b => new Measurement<int>(b.Servers.Count(s => s.IsAvailable(now)), new KeyValuePair<string, object?>("backend", b.Name)));

    private static TagList ServerTags(ServerRuntime server, params (string Key, string Value)[] extra)
    {
        var tags = new TagList { { "backend", server.BackendName }, { "server", server.Name } };
        foreach (var (key, value) in extra)
        {
            tags.Add(key, value);
        }
        return tags;
    }

    public void RequestCompleted(string frontend, string backend, string server, int status, TimeSpan duration)
    {
        var statusClass = StatusClass(status);
        var tags = new TagList
        {
            { "frontend", frontend },
            { "backend", backend },
            { "server", server },
            { "status_class", statusClass },
        };
        _requests.Add(1, tags);
        _requestDuration.Record(duration.TotalSeconds, new TagList { { "frontend", frontend }, { "backend", backend }, { "status_class", statusClass } });
    }

    public void Retry(ServerRuntime failed, bool redispatched)
    {
        var tags = new TagList { { "backend", failed.BackendName }, { "server", failed.Name } };
        _retries.Add(1, tags);
        if (redispatched)
        {
            _redispatches.Add(1, tags);
        }
    }

    public void ServerFailure(ServerRuntime server, string kind) =>
        _serverFailures.Add(1, new TagList { { "backend", server.BackendName }, { "server", server.Name }, { "kind", kind } });

    public void HealthTransition(ServerRuntime server, bool up) =>
        _healthTransitions.Add(1, new TagList { { "backend", server.BackendName }, { "server", server.Name }, { "state", up ? "up" : "down" } });

    public void HealthCheck(ServerRuntime server, string result, TimeSpan? duration)
    {
        _healthChecks.Add(1, new TagList { { "backend", server.BackendName }, { "server", server.Name }, { "result", result } });
        if (duration is { } took)
        {
            _healthCheckDuration.Record(took.TotalSeconds, new TagList { { "backend", server.BackendName }, { "server", server.Name }, { "ok", result == "ok" } });
        }
    }

    public void Ejected(ServerRuntime server) =>
        _ejections.Add(1, new TagList { { "backend", server.BackendName }, { "server", server.Name } });

    public void ConnectCompleted(ServerRuntime server, TimeSpan duration) =>
        _connectDuration.Record(duration.TotalSeconds, new TagList { { "backend", server.BackendName }, { "server", server.Name } });

    public void Suspected(ServerRuntime server, SuspicionCause cause) =>
        _suspicions.Add(1, new TagList { { "backend", server.BackendName }, { "server", server.Name }, { "cause", cause == SuspicionCause.Silent ? "silent" : "refused" } });

    private static string StatusClass(int status) => status switch
    {
        < 200 => "1xx",
        < 300 => "2xx",
        < 400 => "3xx",
        < 500 => "4xx",
        _ => "5xx",
    };
}
