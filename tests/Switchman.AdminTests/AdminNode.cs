using Switchman.Testing;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Switchman.Admin;
using Switchman.Core.Configuration;
using Switchman.DemoBackend;
using Xunit.Abstractions;

namespace Switchman.AdminTests;

/// <summary>
/// A whole Switchman node in the test process (admin listener and frontends on loopback port 0) with three tokens:
/// <c>ops</c> (admin, declared by its SHA-256), <c>viewer</c> (read, from a file) and <c>ci</c> (admin, from an
/// environment variable). Every log record the node writes is kept, so tests can search it for secrets.
/// </summary>
internal sealed class AdminNode : IAsyncDisposable
{
    public const string AdminToken = "ops-token-6d1f0c27a4e8";
    public const string ReadToken = "viewer-token-b83e5a91c2d7";
    public const string CiToken = "ci-token-4f09d6e2b1a3";

    private readonly TempDirectory _dir;
    private readonly string _ciVariable;

    private AdminNode(NodeHost host, TempDirectory dir, string ciVariable, FakeLogCollector logs)
    {
        Host = host;
        _dir = dir;
        _ciVariable = ciVariable;
        Logs = logs;
        Anonymous = CreateClient(token: null);
        Reader = CreateClient(ReadToken);
        Admin = CreateClient(AdminToken);
    }

    public NodeHost Host { get; }

    public FakeLogCollector Logs { get; }

    public HttpClient Anonymous { get; }

    public HttpClient Reader { get; }

    public HttpClient Admin { get; }

    public string Directory => _dir.Path;

    public static IReadOnlyList<string> AllTokens => [AdminToken, ReadToken, CiToken];

    /// <summary>Starts a node; <paramref name="withTokens"/> false leaves admin.tokens empty, as in a fresh install.</summary>
    /// <param name="writeFile">When set, the configuration is written to switchman.yaml and the node started from it (for reloads).</param>
    public static async Task<AdminNode> StartAsync(SwitchmanConfig config, ITestOutputHelper output, bool withTokens = true, bool writeFile = false,
        Func<string, AdminConfig, AdminConfig>? adjustAdmin = null)
    {
        var dir = new TempDirectory();
        var ciVariable = "SWITCHMAN_TEST_CI_TOKEN_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(ciVariable, CiToken);
        File.WriteAllText(dir.File("viewer.token"), ReadToken + "\n");
        var admin = new AdminConfig
        {
            Listen = "127.0.0.1:0",
            Tokens = withTokens
                ? ValueList.Create(
                    new AdminTokenConfig { Name = "ops", Role = AdminRole.Admin, Sha256 = Convert.ToHexStringLower(AdminTokenHash.Of(AdminToken)) },
                    new AdminTokenConfig { Name = "viewer", Role = AdminRole.Read, File = dir.File("viewer.token") },
                    new AdminTokenConfig { Name = "ci", Role = AdminRole.Admin, Env = ciVariable })
                : ValueList<AdminTokenConfig>.Empty,
        };
        config = config with { Admin = adjustAdmin?.Invoke(dir.Path, admin) ?? admin };
        string? sourceFile = null;
        if (writeFile)
        {
            sourceFile = dir.File("switchman.yaml");
            File.WriteAllText(sourceFile, Core.Configuration.Writing.ConfigWriter.ToYaml(config));
        }
        var logs = new FakeLogCollector();
        var host = NodeHost.Create(config, sourceFile, logging =>
        {
            logging.SetMinimumLevel(LogLevel.Trace);
            logging.AddProvider(new FakeLoggerProvider(logs));
            logging.AddProvider(new TestOutputLoggerProvider(output));
        });
        await host.StartAsync();
        return new AdminNode(host, dir, ciVariable, logs);
    }

    public HttpClient CreateClient(string? token, HttpMessageHandler? handler = null)
    {
        var client = handler is null ? new HttpClient() : new HttpClient(handler);
        client.BaseAddress = new Uri(Host.AdminUrl);
        client.Timeout = TimeSpan.FromSeconds(60);
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return client;
    }

    public Uri FrontendUrl(string frontend = "web") => new(Host.DataPlane.FrontendUrls[frontend][0]);

    public HttpClient CreateFrontendClient(string frontend = "web") => new() { BaseAddress = FrontendUrl(frontend), Timeout = TimeSpan.FromSeconds(30) };

    public async Task<JsonElement> StatusAsync() => JsonDocument.Parse(await Reader.GetStringAsync("/api/v1/status")).RootElement;

    public async Task<JsonElement> ServerStatusAsync(string backend, string server)
    {
        var status = await StatusAsync();
        return status.GetProperty("backends").EnumerateArray().Single(b => b.GetProperty("name").GetString() == backend)
            .GetProperty("servers").EnumerateArray().Single(s => s.GetProperty("name").GetString() == server);
    }

    /// <summary>Every message the node logged so far, with its category and any exception text.</summary>
    public IEnumerable<string> LogLines() =>
        Logs.GetSnapshot().Select(r => $"{r.Category} {r.Level} {r.Message} {r.Exception}");

    public async ValueTask DisposeAsync()
    {
        Anonymous.Dispose();
        Reader.Dispose();
        Admin.Dispose();
        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await Host.StopAsync(stopTimeout.Token);
        await Host.DisposeAsync();
        Environment.SetEnvironmentVariable(_ciVariable, null);
        _dir.Dispose();
    }
}

/// <summary>Shorthands for building test configurations.</summary>
internal static class TestConfig
{
    public static SwitchmanConfig Single(params ServerConfig[] servers) => Single(new BackendConfig { Name = "api", Servers = servers });

    public static SwitchmanConfig Single(BackendConfig backend) => new()
    {
        Frontends = ValueList.Create(new FrontendConfig { Name = "web", Listen = "127.0.0.1:0", DefaultBackend = backend.Name }),
        Backends = ValueList.Create(backend),
    };

    public static ServerConfig Server(string name, DemoBackendServer server, int weight = 1) =>
        new() { Name = name, Address = server.BaseAddress.Authority, Weight = weight };

    public static HealthCheckConfig FastHealth => new()
    {
        Path = "/healthz",
        Interval = TimeSpan.FromMilliseconds(300),
        Timeout = TimeSpan.FromMilliseconds(500),
        Rise = 2,
        Fall = 2,
    };
}

/// <summary>Demo backends that a test starts and that are stopped when it ends.</summary>
internal sealed class Backends : IAsyncDisposable
{
    private readonly List<DemoBackendServer> _servers = [];

    public async Task<DemoBackendServer> StartAsync(string name)
    {
        var server = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = name }, CancellationToken.None);
        _servers.Add(server);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }
}

/// <summary>A temporary directory removed when the test ends.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => System.IO.Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "switchman-admin-tests-" + Guid.NewGuid().ToString("N"));

    public string File(string relative) => System.IO.Path.Combine(Path, relative);

    public void Dispose() => System.IO.Directory.Delete(Path, recursive: true);
}
