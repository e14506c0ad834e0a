using Microsoft.Extensions.Logging;
using Switchman.Admin;
using Switchman.Client;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;
using Switchman.DemoBackend;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.CliTests;

/// <summary>
/// A node in the test process for the CLI to talk to: two demo backends (a and b) behind frontend "web", backend
/// "api"; admin and frontend on loopback port 0; started from a real file, so reload and line numbers work; two tokens,
/// one admin and one read-only. Ready (first health round done) when <see cref="StartAsync"/> returns.
/// </summary>
internal sealed class CliTestNode : IAsyncDisposable
{
    public const string AdminToken = "cli-tests-admin-token";
    public const string ReadToken = "cli-tests-read-token";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _directory;

    private CliTestNode(TempDirectory directory, DemoBackendServer a, DemoBackendServer b, NodeHost host, string configPath)
    {
        _directory = directory;
        A = a;
        B = b;
        Host = host;
        ConfigPath = configPath;
        AdminUrl = host.AdminUrl;
        Frontend = new HttpClient { BaseAddress = new Uri(host.DataPlane.FrontendUrls["web"][0]), Timeout = TimeSpan.FromSeconds(30) };
    }

    public DemoBackendServer A { get; }

    public DemoBackendServer B { get; }

    public NodeHost Host { get; }

    /// <summary>The file the node was started from (and that a reload reads).</summary>
    public string ConfigPath { get; }

    public string AdminUrl { get; }

    /// <summary>A client for the "web" frontend: traffic through the load balancer.</summary>
    public HttpClient Frontend { get; }

    public static async Task<CliTestNode> StartAsync(ITestOutputHelper? output = null)
    {
        var directory = new TempDirectory("switchman-cli");
        var a = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "a" }, CancellationToken.None);
        var b = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "b" }, CancellationToken.None);
        var configPath = directory.WriteFile("switchman.yaml", Yaml(a, b));
        var loaded = ConfigLoader.LoadFile(configPath);
        Assert.True(loaded.IsValid, string.Join('\n', loaded.Errors));
        var host = NodeHost.Create(loaded.Config!, configPath, logging =>
        {
            logging.SetMinimumLevel(LogLevel.Information);
            if (output is not null)
            {
                logging.AddProvider(new TestOutputLoggerProvider(output));
            }
        });
        await host.StartAsync();
        await host.DataPlane.FirstHealthRound.WaitAsync(StartTimeout);
        return new CliTestNode(directory, a, b, host, configPath);
    }

    /// <summary>The node's configuration as YAML, with <paramref name="servers"/> in backend api (a and b by default) and <paramref name="rise"/> as its health rise.</summary>
    public string Yaml(string servers = "ab", string rise = "2") => Yaml(A, B, servers, rise);

    /// <summary>Writes a file for <c>config apply</c> into the node's temporary folder and returns its path.</summary>
    public string WriteFile(string name, string contents) => _directory.WriteFile(name, contents);

    /// <summary>Arguments that point the CLI at this node with <paramref name="token"/>: <c>--endpoint URL --token T</c>.</summary>
    public string[] Connect(string token = AdminToken) => ["--endpoint", AdminUrl, "--token", token];

    /// <summary>Runs <c>switchman <paramref name="arguments"/></c> against this node with the admin token.</summary>
    public Task<CliResult> RunAsync(params string[] arguments) => Cli.RunAsync([.. arguments, .. Connect()]);

    /// <summary>The typed client, for checking what a command did.</summary>
    public AdminClient CreateClient(string token = AdminToken) =>
        new(new AdminClientSettings(new Uri(AdminUrl), token));

    public async Task<ServerStatus> ServerAsync(string server)
    {
        using var client = CreateClient();
        return (await client.GetServerAsync("api", server, CancellationToken.None)).Value;
    }

    public async ValueTask DisposeAsync()
    {
        Frontend.Dispose();
        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await Host.StopAsync(stopTimeout.Token);
        await Host.DisposeAsync();
        await A.DisposeAsync();
        await B.DisposeAsync();
        _directory.Dispose();
    }

    private static string Yaml(DemoBackendServer a, DemoBackendServer b, string servers = "ab", string rise = "2")
    {
        var serverLines = string.Concat(servers.Select(name => $"""

                  - name: {name}
                    address: {(name == 'a' ? a : b).BaseAddress.Authority}
            """));
        return $"""
            admin:
              listen: 127.0.0.1:0
              tokens:
                - name: ops
                  role: admin
                  sha256: {Sha256Hex(AdminToken)}
                - name: viewer
                  role: read
                  sha256: {Sha256Hex(ReadToken)}
            frontends:
              web:
                listen: 127.0.0.1:0
                default_backend: api
            backends:
              api:
                balance: roundrobin
                servers:{serverLines}
                health:
                  path: /healthz
                  interval: 500ms
                  rise: {rise}
            """ + "\n";
    }

    private static string Sha256Hex(string token) => Convert.ToHexStringLower(AdminTokenHash.Of(token));
}
