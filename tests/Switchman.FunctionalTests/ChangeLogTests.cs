using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Switchman.Admin;
using Switchman.Admin.Control;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;
using Switchman.DemoBackend;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.FunctionalTests;

/// <summary>
/// A node alone with <c>data_dir</c> keeps its change log on disk: what the API changed survives a restart, the log
/// (not the file) is what runs after one, and a reload applies the file as a new change, as in a cluster.
/// </summary>
public sealed class ChangeLogTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TempDirectory _directory = new("switchman-changelog");
    private DemoBackendServer _a = null!;
    private DemoBackendServer _b = null!;

    public async Task InitializeAsync()
    {
        _a = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "a" }, CancellationToken.None);
        _b = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "b" }, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task What_the_api_changed_survives_a_restart_and_runs_instead_of_the_file()
    {
        var file = WriteConfig(servers: ["a", "b"]);
        long revision;
        await using (var node = await StartAsync(file))
        {
            var store = node.Host.ConfigStore;
            Assert.IsType<ApplyOutcome.Applied>(await store.AddServerAsync("api", new ServerConfig { Name = "c", Address = _a.BaseAddress.Authority }, "ops", CancellationToken.None));
            Assert.True((await store.SetServerStateAsync("api", "a", ServerAdminState.Drain, "ops", CancellationToken.None)).Accepted);
            Assert.True((await store.SetServerWeightAsync("api", "b", 7, "ops", CancellationToken.None)).Accepted);
            revision = store.Current.Revision;
        }

        await using var restarted = await StartAsync(file);

        Assert.Equal(revision, restarted.Host.ConfigStore.Current.Revision);
        var servers = restarted.Host.DataPlane.GetStatus().Backends.Single().Servers;
        Assert.Equal(["a", "b", "c"], servers.Select(s => s.Name));
        Assert.Equal(("drain", 7), (servers[0].State, servers[1].Weight));
        // The file still has only a and b: it differs from what runs, and the node says so.
        Assert.Contains(restarted.Logs.GetSnapshot(), r => r.Id.Id == 2013 && r.Message.Contains("server c removed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_reload_applies_the_file_as_a_new_change_and_overrides_of_servers_it_leaves_alone_stay()
    {
        var file = WriteConfig(servers: ["a", "b"]);
        await using (var node = await StartAsync(file))
        {
            Assert.True((await node.Host.ConfigStore.SetServerStateAsync("api", "a", ServerAdminState.Drain, "ops", CancellationToken.None)).Accepted);
        }
        WriteConfig(servers: ["a"]);

        await using var restarted = await StartAsync(file);
        Assert.Equal(["a", "b"], ServerNames(restarted));
        var preview = Assert.IsType<ApplyOutcome.Applied>(await restarted.Host.ConfigStore.ReloadAsync("ops", CancellationToken.None, dryRun: true));
        Assert.Equal(["backend api changed: server b removed"], preview.Diff.Changes);
        Assert.Equal(["a", "b"], ServerNames(restarted));

        Assert.IsType<ApplyOutcome.Applied>(await restarted.Host.ConfigStore.ReloadAsync("ops", CancellationToken.None));

        Assert.Equal(["a"], ServerNames(restarted));
        Assert.Equal("drain", restarted.Host.DataPlane.GetStatus().Backends.Single().Servers.Single().State);
    }

    [Fact]
    public async Task A_change_that_could_not_run_is_not_kept_and_an_entry_cut_short_by_a_crash_is_dropped()
    {
        var file = WriteConfig(servers: ["a"]);
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        long revision;
        await using (var node = await StartAsync(file))
        {
            var store = node.Host.ConfigStore;
            var busyPort = store.Current.Config with
            {
                Frontends = ValueList.Create(store.Current.Config.Frontends[0], new FrontendConfig { Name = "busy", Listen = taken.LocalEndpoint.ToString()!, DefaultBackend = "api" }),
            };
            Assert.IsType<ApplyOutcome.Invalid>(await store.ApplyAsync(busyPort, null, "ops", dryRun: false, CancellationToken.None));
            revision = store.Current.Revision;
        }
        // A crash in the middle of writing the next entry leaves half a line.
        await File.AppendAllTextAsync(Path.Combine(_directory.Combine("data"), "changes.log"), "{\"index\":9,\"command\":{\"type\":\"set_serv");

        await using var restarted = await StartAsync(file);

        Assert.Equal(revision, restarted.Host.ConfigStore.Current.Revision);
        Assert.Equal(["web"], restarted.Host.DataPlane.FrontendUrls.Keys);
        Assert.Contains(restarted.Logs.GetSnapshot(), r => r.Id.Id == 2011);
        Assert.True((await restarted.Host.ConfigStore.SetServerWeightAsync("api", "a", 3, "ops", CancellationToken.None)).Accepted);
    }

    private static List<string> ServerNames(RunningNode node) =>
        [.. node.Host.DataPlane.GetStatus().Backends.Single().Servers.Select(s => s.Name)];

    private string WriteConfig(string[] servers)
    {
        var lines = new List<string>
        {
            "data_dir: data",
            "admin: { listen: 127.0.0.1:0 }",
            "frontends:",
            "  web: { listen: 127.0.0.1:0, routes: [ { backend: api } ] }",
            "backends:",
            "  api:",
            "    servers:",
        };
        lines.AddRange(servers.Select(s => $"      - {{ name: {s}, address: {(s == "a" ? _a : _b).BaseAddress.Authority} }}"));
        return _directory.WriteFile("switchman.yaml", string.Join('\n', lines) + "\n");
    }

    private async Task<RunningNode> StartAsync(string file)
    {
        var loaded = ConfigLoader.LoadFile(file);
        Assert.True(loaded.IsValid, string.Join("\n", loaded.Errors));
        var logs = new FakeLogCollector();
        var host = NodeHost.Create(loaded.Config!, file, logging => logging
            .SetMinimumLevel(LogLevel.Information)
            .AddProvider(new TestOutputLoggerProvider(output))
            .AddProvider(new FakeLoggerProvider(logs)));
        await host.StartAsync();
        return new RunningNode(host, logs);
    }

    private sealed record RunningNode(NodeHost Host, FakeLogCollector Logs) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Host.StopAsync();
            await Host.DisposeAsync();
        }
    }
}
