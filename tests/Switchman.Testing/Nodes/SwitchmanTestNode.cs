using System.Net.Http.Headers;
using Microsoft.Extensions.Logging.Testing;
using Switchman.Admin;
using Switchman.Admin.Control;
using Switchman.Cluster;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;
using Switchman.Core.Configuration.Writing;
using Switchman.Proxy;
using Xunit.Abstractions;

namespace Switchman.Testing;

/// <summary>
/// A whole Switchman node in the test process: real Kestrel, real sockets, the admin listener and frontends on
/// loopback port 0 (the bound URLs are read back). Its logs go to the test output and are kept in <see cref="Logs"/>;
/// its files live in a temporary <see cref="Directory"/> removed on dispose. Admin, Reader and Anonymous are admin API
/// clients with <see cref="TestTokens"/>.
/// </summary>
/// <remarks>
/// The one place the tests build and reach into a <see cref="NodeHost"/>: when its API changes, this file changes.
/// See SwitchmanTestNode.Api.cs for what a test asks a running node over HTTP.
/// </remarks>
public sealed partial class SwitchmanTestNode : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    private readonly NodeHost _host;
    private readonly TempDirectory _directory;
    private bool _stopped;

    private SwitchmanTestNode(NodeHost host, TempDirectory directory, FakeLogCollector logs, string? configFile)
    {
        _host = host;
        _directory = directory;
        Logs = logs;
        ConfigFile = configFile;
        AdminUrl = host.AdminUrl;
        Anonymous = CreateClient(token: null);
        Reader = CreateClient(TestTokens.ReadToken);
        Admin = CreateClient(TestTokens.AdminToken);
    }

    /// <summary>
    /// Starts a node running <paramref name="config"/> with its admin section replaced: a listener on loopback port 0 that
    /// accepts <see cref="TestNodeOptions.Tokens"/>.
    /// </summary>
    public static async Task<SwitchmanTestNode> StartAsync(SwitchmanConfig config, ITestOutputHelper? output, TestNodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        options ??= new TestNodeOptions();
        var directory = new TempDirectory("switchman-node");
        var admin = new AdminConfig { Listen = "127.0.0.1:0", Tokens = TestTokens.For(options.Tokens, directory) };
        config = config with { Admin = options.Admin?.Invoke(directory.Path, admin) ?? admin };
        var file = options.WriteFile ? directory.WriteFile("switchman.yaml", ConfigWriter.ToYaml(config)) : null;
        return await StartAsync(config, file, directory, output, options);
    }

    /// <summary>Starts a node from <paramref name="file"/> as <c>switchman run -c FILE</c> would (its own admin section and tokens).</summary>
    /// <exception cref="InvalidOperationException">The file does not load or is invalid.</exception>
    public static Task<SwitchmanTestNode> StartFromFileAsync(string file, ITestOutputHelper? output, TestNodeOptions? options = null) =>
        StartFromFileAsync(file, new TempDirectory("switchman-node"), output, options ?? new TestNodeOptions());

    /// <summary>Writes <paramref name="yaml"/> to switchman.yaml in the node's directory and starts from that file (see <see cref="StartFromFileAsync(string, ITestOutputHelper?, TestNodeOptions?)"/>).</summary>
    public static Task<SwitchmanTestNode> StartFromYamlAsync(string yaml, ITestOutputHelper? output, TestNodeOptions? options = null)
    {
        var directory = new TempDirectory("switchman-node");
        return StartFromFileAsync(directory.WriteFile("switchman.yaml", yaml), directory, output, options ?? new TestNodeOptions());
    }

    private static async Task<SwitchmanTestNode> StartFromFileAsync(string file, TempDirectory directory, ITestOutputHelper? output, TestNodeOptions options)
    {
        var loaded = ConfigLoader.LoadFile(file);
        if (!loaded.IsValid)
        {
            directory.Dispose();
            throw new InvalidOperationException($"{file} is not a valid configuration:\n{string.Join('\n', loaded.Errors)}");
        }
        return await StartAsync(loaded.Config!, file, directory, output, options);
    }

    private static async Task<SwitchmanTestNode> StartAsync(SwitchmanConfig config, string? file, TempDirectory directory, ITestOutputHelper? output, TestNodeOptions options)
    {
        var logs = new FakeLogCollector();
        var host = NodeHost.Create(
            config, file, logging => logging.AddTestLogs(logs, output, options.LogPrefix, options.MinimumLogLevel), linkOperations: options.VipTools);
        try
        {
            await host.StartAsync();
            if (options.WaitForFirstHealthRound)
            {
                await host.DataPlane.FirstHealthRound.WaitAsync(StartTimeout);
            }
        }
        catch
        {
            await host.DisposeAsync();
            directory.Dispose();
            throw;
        }
        return new SwitchmanTestNode(host, directory, logs, file);
    }

    /// <summary>The node's host, for tests of the host's own parts (its services, its config store); prefer the members below.</summary>
    public NodeHost Host => _host;

    /// <summary>The node's services (e.g. the admin listener's endpoint table).</summary>
    public IServiceProvider Services => _host.Services;

    public DataPlane DataPlane => _host.DataPlane;

    /// <summary>The node's event stream (what <c>GET /api/v1/events</c> serves).</summary>
    public NodeEvents Events => _host.Events;

    /// <summary>This node's cluster member; null when it runs alone.</summary>
    public ClusterNode? Cluster => _host.Cluster;

    /// <summary>The revision of the configuration the node runs.</summary>
    public long Revision => _host.ConfigStore.Current.Revision;

    /// <summary>The configuration the node runs.</summary>
    public SwitchmanConfig RunningConfig => _host.ConfigStore.Current.Config;

    /// <summary>The admin listener's bound address, e.g. http://127.0.0.1:41234.</summary>
    public string AdminUrl { get; }

    /// <summary>The file the node was started from (and that a reload reads); null when started from a configuration in code.</summary>
    public string? ConfigFile { get; }

    /// <summary>A temporary directory for the test's files, removed on dispose.</summary>
    public string Directory => _directory.Path;

    /// <summary>Writes <paramref name="contents"/> to <paramref name="name"/> in <see cref="Directory"/>; returns the full path.</summary>
    public string WriteFile(string name, string contents) => _directory.WriteFile(name, contents);

    /// <summary>What the node logged (at <see cref="TestNodeOptions.MinimumLogLevel"/> and above, after the node's own filters).</summary>
    public FakeLogCollector Logs { get; }

    /// <summary>No token.</summary>
    public HttpClient Anonymous { get; }

    /// <summary>The read-only token (<see cref="TestTokens.ReadToken"/>).</summary>
    public HttpClient Reader { get; }

    /// <summary>The admin token (<see cref="TestTokens.AdminToken"/>).</summary>
    public HttpClient Admin { get; }

    /// <summary>A client of the admin API with <paramref name="token"/> (none when null); the caller disposes it.</summary>
    public HttpClient CreateClient(string? token, HttpMessageHandler? handler = null)
    {
        var client = handler is null ? new HttpClient() : new HttpClient(handler);
        client.BaseAddress = new Uri(AdminUrl);
        client.Timeout = TimeSpan.FromSeconds(60);
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return client;
    }

    /// <summary>A client of the admin API with <paramref name="token"/> whose connections come from <paramref name="source"/> (see <see cref="LoopbackSource"/>); the caller disposes it.</summary>
    public HttpClient CreateClientFrom(System.Net.IPAddress source, string? token) => CreateClient(token, LoopbackSource.Handler(source));

    /// <summary>The first bound URL of <paramref name="frontend"/>.</summary>
    public Uri FrontendUrl(string frontend = "web") => new(_host.DataPlane.FrontendUrls[frontend][0]);

    /// <summary>A client of <paramref name="frontend"/>: traffic through the load balancer; the caller disposes it.</summary>
    public HttpClient CreateFrontendClient(string frontend = "web") => new() { BaseAddress = FrontendUrl(frontend), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Stops the node gracefully (requests in flight finish, the cluster member leaves cleanly), as SIGTERM would.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }
        _stopped = true;
        using var timeout = new CancellationTokenSource(StopTimeout, TimeProvider.System);
        await _host.StopAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        Anonymous.Dispose();
        Reader.Dispose();
        Admin.Dispose();
        try
        {
            await StopAsync();
        }
        finally
        {
            await _host.DisposeAsync();
            _directory.Dispose();
        }
    }
}
