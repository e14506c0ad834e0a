using Switchman.Admin.Control;
using Switchman.Core.Configuration;
using Switchman.DemoBackend;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.FunctionalTests;

/// <summary>The one writer of a node's configuration: revisions, conflicts, refusals and dry runs.</summary>
public class ConfigStoreTests(ITestOutputHelper output) : IAsyncLifetime
{
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
    }

    private SwitchmanConfig Initial => TestConfig.Single(TestConfig.Backend(("a", _a.BaseAddress.Authority), ("b", _b.BaseAddress.Authority)));

    [Fact]
    public async Task Apply_Valid_NewRevision_EventPublished_DiffNamesTheChange()
    {
        await using var node = await SwitchmanTestNode.StartAsync(Initial, output);
        var store = node.Host.ConfigStore;
        var current = store.Current;
        var proposed = current.Config with
        {
            Backends = ValueList.Create(current.Config.Backends[0] with
            {
                Servers = ValueList.Create(current.Config.Backends[0].Servers[0] with { Weight = 5 }),
            }),
        };

        var outcome = Assert.IsType<ApplyOutcome.Applied>(await store.ApplyAsync(proposed, current.Revision, "tester", dryRun: false, CancellationToken.None));

        Assert.Equal(current.Revision + 1, outcome.Current.Revision);
        Assert.Equal(["backend api changed: server a weight 1 → 5, server b removed"], outcome.Diff.Changes);
        Assert.Equal(proposed, store.Current.Config);
        var applied = Assert.Single(node.Events.Since(0), e => e.Type == "config_applied");
        Assert.Equal(outcome.Current.Revision, applied.Data["revision"]);
        Assert.Equal("tester", applied.Data["author"]);
    }

    [Fact]
    public async Task Apply_StaleRevision_Conflict_NothingChanges()
    {
        await using var node = await SwitchmanTestNode.StartAsync(Initial, output);
        var store = node.Host.ConfigStore;
        var before = store.Current;

        var outcome = await store.ApplyAsync(before.Config with { Backends = ValueList.Create(before.Config.Backends[0] with { Balance = BalanceAlgorithm.LeastConn }) },
            before.Revision - 1, "tester", dryRun: false, CancellationToken.None);

        var conflict = Assert.IsType<ApplyOutcome.Conflict>(outcome);
        Assert.Equal(before.Revision, conflict.CurrentRevision);
        Assert.Same(before, store.Current);
        Assert.Equal(BalanceAlgorithm.RoundRobin, node.DataPlane.Config.Backends[0].Balance);
    }

    [Fact]
    public async Task ApplyYaml_SeveralMistakes_AllListedWithLines_NothingChanges()
    {
        await using var node = await SwitchmanTestNode.StartAsync(Initial, output);
        var store = node.Host.ConfigStore;
        var before = store.Current;
        const string yaml = """
            frontends:
              web:
                listen: 127.0.0.1:0
                default_backend: missing
            backends:
              api:
                servers:
                  - name: a
                    address: 127.0.0.1:1
                    weight: 999
                health:
                  rise: 0
            """;

        var outcome = await store.ApplyYamlAsync(yaml, "proposal.yaml", null, "tester", dryRun: false, CancellationToken.None);

        var invalid = Assert.IsType<ApplyOutcome.Invalid>(outcome);
        Assert.Equal(["frontends.web.default_backend", "backends.api.servers[0].weight", "backends.api.health.rise"], invalid.Errors.Select(e => e.Path));
        Assert.All(invalid.Errors, e => Assert.True(e.Line > 0));
        Assert.Same(before, store.Current);
        Assert.Contains(node.Events.Since(0), e => e.Type == "config_refused");
    }

    [Fact]
    public async Task DryRun_ReportsDiff_AppliesNothing()
    {
        await using var node = await SwitchmanTestNode.StartAsync(Initial, output);
        var store = node.Host.ConfigStore;
        var before = store.Current;
        var proposed = before.Config with { Frontends = ValueList.Create(before.Config.Frontends[0], new FrontendConfig { Name = "extra", Listen = "127.0.0.1:0", DefaultBackend = "api" }) };

        var outcome = Assert.IsType<ApplyOutcome.Applied>(await store.ApplyAsync(proposed, null, "tester", dryRun: true, CancellationToken.None));

        Assert.True(outcome.DryRun);
        Assert.Equal(["frontend extra added"], outcome.Diff.Changes);
        Assert.Same(before, store.Current);
        Assert.Equal(["web"], node.DataPlane.FrontendUrls.Keys);
    }

    [Fact]
    public async Task Apply_RemovingEveryAdminToken_IsRefused_SoOperatorsAreNotLockedOut()
    {
        await using var node = await SwitchmanTestNode.StartAsync(Initial, output);
        var store = node.Host.ConfigStore;
        var before = store.Current;

        var outcome = await store.ApplyAsync(before.Config with { Admin = before.Config.Admin with { Tokens = ValueList<AdminTokenConfig>.Empty } },
            null, "tester", dryRun: false, CancellationToken.None);

        var invalid = Assert.IsType<ApplyOutcome.Invalid>(outcome);
        Assert.Equal("admin.tokens", Assert.Single(invalid.Errors).Path);
        Assert.Same(before, store.Current);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await node.Admin.GetAsync("/api/v1/status")).StatusCode);
    }
}
