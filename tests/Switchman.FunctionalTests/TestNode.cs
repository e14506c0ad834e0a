using Switchman.Testing;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Switchman.Admin;
using Switchman.Core.Configuration;
using Switchman.Proxy;
using Xunit.Abstractions;

namespace Switchman.FunctionalTests;

/// <summary>
/// A whole Switchman node in the test process: admin listener and frontends on loopback port 0, real Kestrel, real
/// sockets. Logs go to the test output so a failure shows what the node saw.
/// </summary>
internal sealed class TestNode : IAsyncDisposable
{
    private readonly NodeHost _host;

    /// <summary>The admin token every test node accepts (role admin).</summary>
    public const string AdminToken = "functional-tests-admin-token";

    private TestNode(NodeHost host)
    {
        _host = host;
        Admin = new HttpClient { BaseAddress = new Uri(host.AdminUrl) };
        Admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
    }

    public DataPlane DataPlane => _host.DataPlane;

    public NodeHost Host => _host;

    public HttpClient Admin { get; }

    /// <param name="logs">Also receives the node's logs, after the node's own filters (e.g. a FakeLoggerProvider).</param>
    public static async Task<TestNode> StartAsync(SwitchmanConfig config, ITestOutputHelper? output = null, string? sourceFile = null, ILoggerProvider? logs = null)
    {
        config = config with
        {
            Admin = new AdminConfig
            {
                Listen = "127.0.0.1:0",
                Tokens = ValueList.Create(new AdminTokenConfig
                {
                    Name = "tests",
                    Role = AdminRole.Admin,
                    Sha256 = Convert.ToHexStringLower(AdminTokenHash.Of(AdminToken)),
                }),
            },
        };
        var host = NodeHost.Create(config, sourceFile, logging =>
        {
            logging.SetMinimumLevel(LogLevel.Information);
            if (output is not null)
            {
                logging.AddProvider(new TestOutputLoggerProvider(output));
            }
            if (logs is not null)
            {
                logging.AddProvider(logs);
            }
        });
        await host.StartAsync();
        return new TestNode(host);
    }

    public Uri FrontendUrl(string frontend = "web") => new(DataPlane.FrontendUrls[frontend][0]);

    public HttpClient CreateClient(string frontend = "web") => new() { BaseAddress = FrontendUrl(frontend), Timeout = TimeSpan.FromSeconds(30) };

    public async Task<StatusReport> StatusAsync() =>
        (await Admin.GetFromJsonAsync("/api/v1/status", StatusJsonContext.Default.StatusReport))!;

    public async Task<ServerStatus> ServerStatusAsync(string backend, string server) =>
        (await StatusAsync()).Backends.Single(b => b.Name == backend).Servers.Single(s => s.Name == server);

    public Task<string> MetricsAsync() => Admin.GetStringAsync("/metrics");

    /// <summary>Reads one Prometheus sample, e.g. MetricValue(text, "switchman_proxy_retries_total", ("server", "a")); 0 when absent.</summary>
    public static double MetricValue(string metrics, string name, params (string Label, string Value)[] labels)
    {
        var total = 0.0;
        foreach (var line in metrics.Split('\n'))
        {
            if (!line.StartsWith(name + "{", StringComparison.Ordinal))
            {
                continue;
            }
            if (labels.All(l => line.Contains($"{l.Label}=\"{l.Value}\"", StringComparison.Ordinal)))
            {
                total += double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return total;
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await _host.StopAsync(stopTimeout.Token);
        await _host.DisposeAsync();
    }
}

/// <summary>Shorthands for building test configurations.</summary>
internal static class TestConfig
{
    public static SwitchmanConfig Single(BackendConfig backend, FrontendConfig? frontend = null) => new()
    {
        Frontends = ValueList.Create(frontend ?? new FrontendConfig { Name = "web", Listen = "127.0.0.1:0", DefaultBackend = backend.Name }),
        Backends = ValueList.Create(backend),
    };

    public static BackendConfig Backend(params (string Name, string Address)[] servers) => new()
    {
        Name = "api",
        Servers = new ValueList<ServerConfig>(servers.Select(s => new ServerConfig { Name = s.Name, Address = s.Address })),
    };

    public static HealthCheckConfig FastHealth => new()
    {
        Path = "/healthz",
        Interval = TimeSpan.FromMilliseconds(300),
        Timeout = TimeSpan.FromMilliseconds(500),
        Rise = 2,
        Fall = 2,
    };
}
