using Switchman.Core.Configuration;
using Switchman.DemoBackend;
using Switchman.Proxy;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.FunctionalTests;

/// <summary>
/// Servers that are dead without saying so — a powered-off host (a connect never completes) and a hung server (it
/// accepts, then never answers) — must be found down by their health checks and stay checked while they exist,
/// whatever the relation between the connect, check and request timeouts.
/// </summary>
public class DeadServerHealthTests(ITestOutputHelper output)
{
    private const int Fall = 2;

    [Fact]
    public async Task PoweredOffServer_ConnectTimeoutShorterThanCheckTimeout_GoesDown_AndIsStillChecked()
    {
        using var off = new PoweredOffListener();
        await using var live = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "live" }, CancellationToken.None);
        // The report of issue 8: the connect timeout ends the check before the check's own timeout does.
        var backend = TestConfig.Backend(("off", off.Address), ("live", live.BaseAddress.Authority)) with
        {
            Timeouts = new BackendTimeouts { Connect = TimeSpan.FromMilliseconds(100) },
            Health = TestConfig.FastHealth with { Timeout = TimeSpan.FromMilliseconds(500), Interval = TimeSpan.FromMilliseconds(200), Fall = Fall },
        };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);

        await Await.UntilAsync(async () => (await node.ServerStatusAsync("api", "off")).Health == "down",
            TimeSpan.FromSeconds(10), "the powered-off server marked down by its health checks");
        var down = await node.ServerStatusAsync("api", "off");
        Assert.False(down.LastCheck!.Success);
        Assert.Contains("connect", down.LastCheck.Detail, StringComparison.Ordinal);
        var failuresAtDown = FailedChecks(await node.MetricsAsync(), "api", "off");
        Assert.True(failuresAtDown >= Fall, $"failed checks are counted: saw {failuresAtDown}");

        // Still checked: a later check, and the failure count goes on rising.
        await Await.UntilAsync(async () => (await node.ServerStatusAsync("api", "off")).LastCheck!.Time > down.LastCheck.Time
                && FailedChecks(await node.MetricsAsync(), "api", "off") > failuresAtDown,
            TimeSpan.FromSeconds(10), "another failed check of the powered-off server");
        Assert.Equal("down", (await node.ServerStatusAsync("api", "off")).Health);
        Assert.Equal("up", (await node.ServerStatusAsync("api", "live")).Health);
    }

    /// <summary>
    /// Property: for every combination of connect timeout, check timeout, check interval and per-try (request)
    /// timeout, both kinds of dead server are marked down within fall × (interval + check timeout) plus slack, stay
    /// down, and keep being checked (last_check advances, the failed-check counter rises). TCP checks, which cannot
    /// see a hung server (it accepts connections), are held to the same property for the powered-off one.
    /// All combinations run at once, each as one backend of a single node, under light traffic that shares the
    /// backends' connection pools with the checks.
    /// </summary>
    [Fact]
    public async Task DeadServers_EveryTimeoutCombination_GoDown_StayDown_AndAreStillChecked()
    {
        using var off = new PoweredOffListener();
        await using var hung = new BlackHoleListener();
        await using var live = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "live" }, CancellationToken.None);
        var cases = TimeoutCase.All();
        var backends = cases.Select(c => c.Backend(off.Address, hung.Address, live.BaseAddress.Authority)).ToList();
        var config = new SwitchmanConfig
        {
            Frontends = ValueList.Create(new FrontendConfig
            {
                Name = "web",
                Listen = "127.0.0.1:0",
                Routes = new ValueList<RouteConfig>(cases.Select(c => new RouteConfig { Path = "/" + c.Name, Backend = c.Name })),
            }),
            Backends = new ValueList<BackendConfig>(backends),
        };

        var started = TimeProvider.System.GetTimestamp();
        await using var node = await SwitchmanTestNode.StartAsync(config, output);
        var url = node.FrontendUrl();
        // Light traffic, spread over every backend: requests and checks share each backend's connection pool.
        await using var load = LoadGenerator.Start(
            new LoadOptions { Concurrency = 4, MaxDuration = TimeSpan.FromSeconds(40), MaxRequests = 2_000, RequestTimeout = TimeSpan.FromSeconds(30) },
            i => new HttpRequestMessage(HttpMethod.Get, new Uri(url, $"/{cases[i % cases.Count].Name}/items/{i}")));

        var watches = cases.SelectMany(c => c.DeadServers.Select(s => new DeadServerWatch(c, s))).ToList();
        var deadline = watches.Max(w => w.Case.DownBound + w.Case.RecheckBound);
        try
        {
            await Await.UntilAsync(async () =>
            {
                var status = await node.StatusAsync();
                var metrics = await node.MetricsAsync();
                var elapsed = TimeProvider.System.GetElapsedTime(started);
                foreach (var watch in watches)
                {
                    watch.Observe(status, metrics, elapsed);
                }
                return watches.All(w => w.Satisfied);
            }, deadline, "every dead server down and checked twice more");
        }
        catch (TimeoutException)
        {
            // Reported below with every combination that broke the property.
        }
        var traffic = await load.StopAsync();
        output.WriteLine($"traffic: {traffic}");

        var violations = watches.Select(w => w.Violation()).OfType<string>().ToList();
        foreach (var watch in watches)
        {
            output.WriteLine(watch.ToString());
        }
        Assert.True(violations.Count == 0,
            $"{violations.Count} of {watches.Count} dead servers broke the property:\n{string.Join("\n", violations)}");
    }

    /// <summary>Failed checks of one server: every result of switchman_server_health_checks_total but "ok".</summary>
    private static double FailedChecks(string metrics, string backend, string server) =>
        PrometheusText.Sum(metrics, "switchman_server_health_checks_total", ("backend", backend), ("server", server))
        - PrometheusText.Sum(metrics, "switchman_server_health_checks_total", ("backend", backend), ("server", server), ("result", "ok"));

    /// <summary>One combination of timeouts, run as one backend.</summary>
    private sealed record TimeoutCase(HealthCheckType Check, TimeSpan Connect, TimeSpan CheckTimeout, TimeSpan Interval, TimeSpan PerTry)
    {
        private static readonly TimeSpan[] Connects = [Ms(50), Ms(100), Ms(2000)];
        private static readonly TimeSpan[] CheckTimeouts = [Ms(100), Ms(500), Ms(2000)];
        private static readonly TimeSpan[] Intervals = [Ms(100), Ms(1000)];
        private static readonly TimeSpan[] PerTries = [Ms(200), Ms(5000)];

        /// <summary>Room for a loaded machine; the property is about checks that never end, not about their speed.</summary>
        private static readonly TimeSpan Slack = TimeSpan.FromSeconds(5);

        public static List<TimeoutCase> All() =>
        [
            .. from connect in Connects
               from timeout in CheckTimeouts
               from interval in Intervals
               from perTry in PerTries
               select new TimeoutCase(HealthCheckType.Http, connect, timeout, interval, perTry),
            // A TCP check opens its own connection: only its timeout and interval matter.
            .. from timeout in CheckTimeouts
               from interval in Intervals
               select new TimeoutCase(HealthCheckType.Tcp, Connects[0], timeout, interval, PerTries[0]),
        ];

        public string Name => $"{Check.ToString().ToLowerInvariant()}-c{Connect.TotalMilliseconds}-t{CheckTimeout.TotalMilliseconds}-i{Interval.TotalMilliseconds}-p{PerTry.TotalMilliseconds}";

        /// <summary>A hung server accepts TCP connections, so only HTTP checks can see that it is dead.</summary>
        public IReadOnlyList<string> DeadServers => Check == HealthCheckType.Http ? ["off", "hung"] : ["off"];

        /// <summary>Fall checks, each waiting at most an interval and a check timeout, the first one at start.</summary>
        public TimeSpan DownBound => Fall * (Interval + CheckTimeout) + Slack;

        /// <summary>Two more checks once down.</summary>
        public TimeSpan RecheckBound => 2 * (Interval + CheckTimeout) + Slack;

        public BackendConfig Backend(string offAddress, string hungAddress, string liveAddress) => new()
        {
            Name = Name,
            Servers = new ValueList<ServerConfig>(
                new[] { ("off", offAddress), ("hung", hungAddress), ("live", liveAddress) }
                    .Where(s => s.Item1 != "hung" || Check == HealthCheckType.Http)
                    .Select(s => new ServerConfig { Name = s.Item1, Address = s.Item2 })),
            Timeouts = new BackendTimeouts { Connect = Connect, PerTry = PerTry },
            Health = new HealthCheckConfig
            {
                Type = Check,
                Path = "/healthz",
                Timeout = CheckTimeout,
                Interval = Interval,
                Rise = 2,
                Fall = Fall,
            },
        };

        private static TimeSpan Ms(int milliseconds) => TimeSpan.FromMilliseconds(milliseconds);
    }

    /// <summary>What the status and metrics showed about one dead server over time.</summary>
    private sealed class DeadServerWatch(TimeoutCase @case, string server)
    {
        private readonly HashSet<DateTimeOffset> _checksSinceDown = [];
        private TimeSpan? _downAt;
        private TimeSpan? _upAgainAt;
        private double _failuresAtDown;
        private double _failures;
        private string? _lastDetail;

        public TimeoutCase Case => @case;

        /// <summary>Down, and two more checks seen since (the set also holds the check that was last when it went down).</summary>
        public bool Satisfied => _downAt is not null && _checksSinceDown.Count >= 3 && _failures > _failuresAtDown;

        public void Observe(StatusReport status, string metrics, TimeSpan elapsed)
        {
            if (Satisfied)
            {
                return;
            }
            var seen = status.Backends.Single(b => b.Name == @case.Name).Servers.Single(s => s.Name == server);
            _failures = FailedChecks(metrics, @case.Name, server);
            _lastDetail = seen.LastCheck?.Detail;
            if (_downAt is null)
            {
                if (seen.Health == "down")
                {
                    _downAt = elapsed;
                    _failuresAtDown = _failures;
                    _checksSinceDown.Add(seen.LastCheck?.Time ?? default);
                }
                return;
            }
            if (seen.Health != "down")
            {
                _upAgainAt ??= elapsed;
            }
            if (seen.LastCheck is { } check)
            {
                _checksSinceDown.Add(check.Time);
            }
        }

        /// <returns>Null when the property holds for this server, otherwise what broke it.</returns>
        public string? Violation()
        {
            if (_downAt is null)
            {
                return $"{this}: never marked down";
            }
            if (_downAt > @case.DownBound)
            {
                return $"{this}: marked down after {_downAt.Value.TotalSeconds:0.0} s, bound {@case.DownBound.TotalSeconds:0.0} s";
            }
            if (_upAgainAt is not null)
            {
                return $"{this}: back up at {_upAgainAt.Value.TotalSeconds:0.0} s";
            }
            if (!Satisfied)
            {
                return $"{this}: no longer checked once down ({_checksSinceDown.Count - 1} checks, failures {_failuresAtDown} -> {_failures})";
            }
            return null;
        }

        public override string ToString() =>
            $"{@case.Name}/{server}: down at {_downAt?.TotalSeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) ?? "never"}, " +
            $"{Math.Max(0, _checksSinceDown.Count - 1)} checks since, failed checks {_failures}, last check '{_lastDetail ?? "none"}'";
    }
}
