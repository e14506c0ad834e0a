using Microsoft.Playwright;
using Switchman.Core.Configuration;
using Switchman.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Switchman.DashboardTests;

/// <summary>
/// The web dashboard in a real browser (Debian's Chromium under Playwright) against a real node and real backend
/// processes, with the default health checks: what the page shows is what the API says, and what is clicked and
/// confirmed on the page is what the API does.
/// </summary>
public class DashboardTests(HeadlessChromium chromium, ITestOutputHelper output) : IClassFixture<HeadlessChromium>
{
    [Fact]
    public async Task KilledServer_TurnsDownOnThePage_DrainClickedAndConfirmed_ReachesTheApi()
    {
        await using var a = await DemoBackendProcess.StartAsync("a");
        await using var b = await DemoBackendProcess.StartAsync("b");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(DefaultChecked(a, b)), output);
        var dashboard = new DashboardPage(await chromium.NewPageAsync(), node.AdminUrl);

        await dashboard.SignInAndWaitAsync(TestTokens.AdminToken);
        await Expect(dashboard.Page.Locator("#who")).ToHaveTextAsync("ops (admin)");
        await Expect(dashboard.Health("api", "b")).ToHaveTextAsync("up");

        b.Kill();

        await Expect(dashboard.Health("api", "b")).ToHaveTextAsync("down");
        Assert.Equal("down", (await node.ServerStatusAsync("api", "b")).Health);
        // The timeline shows why, from the event stream, without a reload.
        await Expect(dashboard.Page.Locator("#events li[data-type='server_down'] .message").First).ToContainTextAsync("api/b");
        await Expect(dashboard.Page.Locator("div[data-backend='api'] .backend-title .meta")).ToContainTextAsync("1 of 2 servers available");
        await dashboard.ScreenshotAsync("dashboard-server-down.png");

        await dashboard.Action("api", "a", "drain").ClickAsync();
        await Expect(dashboard.Dialog).ToBeVisibleAsync();
        await Expect(dashboard.Page.Locator("#confirm-title")).ToHaveTextAsync("Set api/a to drain?");
        // Asking is not doing: nothing changes until the operator confirms.
        Assert.Equal("ready", (await node.ServerStatusAsync("api", "a")).State);
        await dashboard.ScreenshotAsync("dashboard-confirm-drain.png");
        await dashboard.Page.ClickAsync("#confirm-ok");

        await Expect(dashboard.Dialog).ToBeHiddenAsync();
        Assert.Equal("drain", (await node.ServerStatusAsync("api", "a")).State);
        await Expect(dashboard.State("api", "a")).ToHaveTextAsync("drain");
        await Expect(dashboard.Page.Locator("#notice")).ToHaveTextAsync("api/a is now drain.");
        // The change is the token holder's, as the CLI's would be.
        await Expect(dashboard.Page.Locator("#events li[data-type='server_state_changed'] .message").First).ToContainTextAsync("by ops");
        await Expect(dashboard.Action("api", "a", "drain")).ToBeDisabledAsync();
    }

    [Fact]
    public async Task Cancel_ChangesNothing_WeightOutOfRange_RefusedInTheDialog_ValidWeight_Applied()
    {
        await using var a = await DemoBackendProcess.StartAsync("a");
        await using var b = await DemoBackendProcess.StartAsync("b");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(DefaultChecked(a, b)), output);
        var dashboard = new DashboardPage(await chromium.NewPageAsync(), node.AdminUrl);
        await dashboard.SignInAndWaitAsync(TestTokens.AdminToken);

        await dashboard.Action("api", "b", "maint").ClickAsync();
        await dashboard.Page.ClickAsync("#confirm-cancel");
        await Expect(dashboard.Dialog).ToBeHiddenAsync();
        Assert.Equal("ready", (await node.ServerStatusAsync("api", "b")).State);

        await dashboard.Action("api", "b", "weight").ClickAsync();
        await dashboard.Page.FillAsync("#confirm-weight", "300");
        await dashboard.Page.ClickAsync("#confirm-ok");
        await Expect(dashboard.Page.Locator("#confirm-error")).ToHaveTextAsync("The weight must be a whole number from 0 to 256.");
        Assert.Equal(1, (await node.ServerStatusAsync("api", "b")).Weight);

        await dashboard.Page.FillAsync("#confirm-weight", "5");
        await dashboard.Page.ClickAsync("#confirm-ok");
        await Expect(dashboard.Dialog).ToBeHiddenAsync();
        Assert.Equal(5, (await node.ServerStatusAsync("api", "b")).Weight);
        await Expect(dashboard.ServerRow("api", "b").Locator("td.weight")).ToHaveTextAsync("5");
    }

    [Fact]
    public async Task ReadToken_SeesServersAndServices_ButNoActions()
    {
        await using var a = await DemoBackendProcess.StartAsync("a");
        var worker = new ServiceConfig { Name = "worker", Command = ValueList.Create("/bin/sh", "-c", "echo ready; exec sleep 600") };
        var config = TestConfig.Single(DefaultChecked(a)) with { Services = ValueList.Create(worker) };
        await using var node = await SwitchmanTestNode.StartAsync(config, output);
        var dashboard = new DashboardPage(await chromium.NewPageAsync(), node.AdminUrl);

        await dashboard.SignInAndWaitAsync(TestTokens.ReadToken);

        await Expect(dashboard.Page.Locator("#who")).ToHaveTextAsync("viewer (read)");
        await Expect(dashboard.Health("api", "a")).ToHaveTextAsync("up");
        await Expect(dashboard.Page.Locator("button[data-action]")).ToHaveCountAsync(0);
        await Expect(dashboard.Page.Locator("#backends th")).Not.ToContainTextAsync(["Actions"]);
        // The service's instance as the supervisor reports it: running, with the pid the API gives.
        var instance = dashboard.Page.Locator("#services tr[data-service='worker']");
        await Expect(instance.Locator("td.service-state")).ToHaveTextAsync("running");
        var pid = "";
        await Await.UntilAsync(async () =>
        {
            var services = System.Text.Json.JsonDocument.Parse(await node.Reader.GetStringAsync("/api/v1/services")).RootElement;
            var worker = services.GetProperty("services")[0].GetProperty("instances")[0];
            pid = worker.TryGetProperty("pid", out var value) ? value.GetRawText() : "";
            return worker.GetProperty("state").GetString() == "running" && pid.Length > 0;
        }, TimeSpan.FromSeconds(30), "the worker running, with a pid, in the API");
        await Expect(instance.Locator("td.num").First).ToHaveTextAsync(pid);
        await Expect(dashboard.Page.Locator("#cluster")).ToContainTextAsync("runs alone");
        await Expect(dashboard.Page.Locator("#vips")).ToContainTextAsync("No VIP is configured.");
        await Expect(dashboard.Page.Locator("#live")).ToHaveTextAsync("live");
        await dashboard.ScreenshotAsync("dashboard-read-only.png");
    }

    [Fact]
    public async Task UnknownToken_StaysOnSignIn_WithTheNodesReason_AndSignOut_ForgetsTheToken()
    {
        await using var a = await DemoBackendProcess.StartAsync("a");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(DefaultChecked(a)), output);
        var dashboard = new DashboardPage(await chromium.NewPageAsync(), node.AdminUrl);

        await dashboard.SignInAsync("not-a-token");

        await Expect(dashboard.Page.Locator("#sign-in-error")).ToHaveTextAsync("the bearer token is not valid on this node");
        await Expect(dashboard.Page.Locator("#dashboard-view")).ToBeHiddenAsync();

        await dashboard.Page.FillAsync("#token", TestTokens.ReadToken);
        await dashboard.Page.ClickAsync("#sign-in-button");
        await Expect(dashboard.Page.Locator("#dashboard-view")).ToBeVisibleAsync();
        // A reload keeps the tab signed in; signing out forgets the token.
        await dashboard.Page.ReloadAsync();
        await Expect(dashboard.Page.Locator("#who")).ToHaveTextAsync("viewer (read)");
        await dashboard.Page.ClickAsync("#sign-out");
        await Expect(dashboard.Page.Locator("#sign-in-view")).ToBeVisibleAsync();
        await dashboard.Page.ReloadAsync();
        await Expect(dashboard.Page.Locator("#sign-in-view")).ToBeVisibleAsync();
        Assert.Null(await dashboard.Page.EvaluateAsync<string?>("() => sessionStorage.getItem('switchman.token')"));

        // Guessing on: past the burst of failures the node allows an address (docs/admin-api.md), the page gives the
        // node's 429 and its reason, not "the node did not answer"; the token that worked from here still does.
        var error = dashboard.Page.Locator("#sign-in-error");
        for (var attempt = 0; attempt < 40 && !(await error.TextContentAsync() ?? "").Contains("429", StringComparison.Ordinal); attempt++)
        {
            await dashboard.Page.FillAsync("#token", $"guess-{attempt}");
            await dashboard.Page.ClickAsync("#sign-in-button");
            await Expect(error).Not.ToBeEmptyAsync();
        }
        await Expect(error).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^too many failed authentications from .* answered 429; retry in"));
        await dashboard.Page.FillAsync("#token", TestTokens.ReadToken);
        await dashboard.Page.ClickAsync("#sign-in-button");
        await Expect(dashboard.Page.Locator("#dashboard-view")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task NodeFrozen_PageSaysItIsOffline_AndCatchesUpOnWhatHappenedMeanwhile_WhenItWakes()
    {
        await using var cluster = new SwitchmanTestCluster(output, voters: 3);
        await cluster.StartAllAsync();
        var leader = await SettledLeaderAsync(cluster);
        var watched = cluster.Nodes.First(n => n != leader);
        var dashboard = new DashboardPage(await chromium.NewPageAsync(), watched.AdminUrl);
        await dashboard.SignInAndWaitAsync(TestTokens.ReadToken);
        await Expect(dashboard.Page.Locator("#live")).ToHaveTextAsync("live");

        // A frozen node closes nothing: no reset, no end of stream; the page has to notice the silence itself.
        await cluster.FreezeAsync(watched);
        try
        {
            await Expect(dashboard.Page.Locator("#live")).ToHaveTextAsync("offline");
            await Expect(dashboard.Page.Locator("#notice")).ToContainTextAsync("Could not refresh from the node");
            // Meanwhile an operator drains the seed server through the leader.
            using var drained = await cluster.Http.PostAsync(
                $"{leader.AdminUrl}/api/v1/backends/api/servers/seed/state", new StringContent("{\"state\":\"drain\"}", System.Text.Encoding.UTF8, "application/json"));
            drained.EnsureSuccessStatusCode();
            // Past the page's allowance for silence, so it reconnects rather than resumes the old stream.
            await Task.Delay(TimeSpan.FromSeconds(14), TimeProvider.System);
        }
        finally
        {
            await cluster.ThawAsync(watched);
        }

        await Expect(dashboard.Page.Locator("#live")).ToHaveTextAsync("live");
        await Expect(dashboard.State("api", "seed")).ToHaveTextAsync("drain");
        await Expect(dashboard.Page.Locator("#notice")).ToBeEmptyAsync();
        // The change made while it was frozen arrives once, from where the stream left off.
        var changes = dashboard.Page.Locator("#events li[data-type='server_state_changed']");
        await Expect(changes).ToHaveCountAsync(1);
        await Expect(changes.Locator(".message")).ToContainTextAsync("set to drain by ops");
        var ids = await dashboard.Page.Locator("#events li").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.id)");
        Assert.Equal(ids.Length, ids.Distinct().Count());
    }

    [Fact]
    public async Task Cluster_LeaderKilled_PageOfAnotherMember_ShowsTheNewLeader_AndTheLostMember()
    {
        await using var cluster = new SwitchmanTestCluster(output, voters: 3);
        await cluster.StartAllAsync();
        // Three nodes starting at once on two cores may elect more than once: watch from a follower of a settled leader.
        var leader = await SettledLeaderAsync(cluster);
        var others = cluster.Nodes.Where(n => n != leader).ToList();
        var dashboard = new DashboardPage(await chromium.NewPageAsync(), others[0].AdminUrl);
        await dashboard.SignInAndWaitAsync(TestTokens.ReadToken);

        await Expect(dashboard.Page.Locator("#cluster tbody tr")).ToHaveCountAsync(3);
        await Expect(Member(dashboard, leader.Id).Locator(".badge.leader")).ToHaveCountAsync(1);
        await Expect(Member(dashboard, others[0].Id)).ToContainTextAsync("(this node)");

        await cluster.KillAsync(leader);
        var next = await cluster.WaitForLeaderAsync(among: others);

        await Expect(Member(dashboard, next.Id).Locator(".badge.leader")).ToHaveCountAsync(1);
        await Expect(Member(dashboard, leader.Id).Locator(".badge.leader")).ToHaveCountAsync(0);
        await Expect(Member(dashboard, leader.Id).Locator("td").Nth(2)).ToHaveTextAsync("unavailable");
        await Expect(dashboard.Page.Locator("#cluster > div > p").First).ToContainTextAsync($"leader {next.Id}");
        await dashboard.ScreenshotAsync("dashboard-cluster-leader-lost.png");
    }

    /// <summary>A leader that has kept its place for two seconds: the one the test takes away.</summary>
    private static async Task<TestClusterMember> SettledLeaderAsync(SwitchmanTestCluster cluster)
    {
        var settle = TimeSpan.FromSeconds(2);
        for (var attempt = 0; attempt < 15; attempt++)
        {
            var leader = await cluster.WaitForLeaderAsync();
            await Task.Delay(settle, TimeProvider.System);
            if (await cluster.WaitForLeaderAsync() == leader)
            {
                return leader;
            }
        }
        throw new TimeoutException("the cluster kept changing its leader for 30 s");
    }

    private static ILocator Member(DashboardPage dashboard, string id) => dashboard.Page.Locator($"#cluster tr[data-member='{id}']");

    /// <summary>Backend "api" over the demo backends, with HTTP checks of /healthz at the default interval, rise and fall.</summary>
    private static BackendConfig DefaultChecked(params DemoBackendProcess[] servers) =>
        TestConfig.Backend([.. servers.Select(s => (s.Name, s.Address))]) with { Health = new HealthCheckConfig { Path = "/healthz" } };
}
