using System.Net;
using System.Text.Json;
using Switchman.Core.Configuration;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.AdminTests;

/// <summary>
/// <c>GET /api/v1/vips</c>, the VIPs in <c>GET /api/v1/status</c>, and <c>POST /api/v1/nodes/{node}/standby|online</c>
/// on a node alone (which always leads, so its own VIP assigner acts on its standby). No test here adds an address to
/// the host: a VIP is either on an interface that does not exist, or kept with tools that change nothing.
/// </summary>
public class VipApiTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string VipAddress = "198.51.100.10/32";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>A node alone is named after its host in VIP assignments.</summary>
    private static readonly string NodeId = Environment.MachineName;

    private readonly DemoBackends _backends = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _backends.DisposeAsync();

    [Fact]
    public async Task Vips_InterfaceMissing_AssignedToTheNode_NotHeldThere_TheNodeSaysWhy()
    {
        // The host's own ip: adding the address to an interface that does not exist fails and changes nothing.
        await using var node = await StartAsync("nosuch0", vipTools: null);

        var vips = await UntilVipsAsync(node, v => Unready(v, "api") is not null, "the node to report that it cannot serve VIP api");

        Assert.Equal(NodeId, vips.GetProperty("node").GetString());
        var row = Assert.Single(vips.GetProperty("vips").EnumerateArray());
        Assert.Equal(("api", VipAddress, "nosuch0"), (Str(row, "name"), Str(row, "address"), Str(row, "interface")));
        // Nobody else could serve it, so the leader leaves it where it is: assigned here, yet not on an interface here.
        Assert.Equal((NodeId, "placed", 1L, false), (Str(row, "holder"), Str(row, "reason"), row.GetProperty("term").GetInt64(), row.GetProperty("held_here").GetBoolean()));
        Assert.True(row.TryGetProperty("since", out _));
        Assert.False(row.TryGetProperty("pool", out _), "absent values are left out");
        Assert.Contains("nosuch0", Unready(vips, "api"), StringComparison.Ordinal);

        var status = await node.StatusJsonAsync();
        Assert.Equal((NodeId, false), (Str(status.GetProperty("node"), "id"), status.GetProperty("node").GetProperty("standby").GetBoolean()));
        var statusRow = Assert.Single(status.GetProperty("vips").EnumerateArray());
        Assert.Equal(("api", NodeId, false), (Str(statusRow, "name"), Str(statusRow, "holder"), statusRow.GetProperty("held_here").GetBoolean()));
    }

    [Fact]
    public async Task Vips_ShowTheInterfaceThisNodeUses_ItsOwnOverrideFirst()
    {
        var a = await _backends.StartAsync("a");
        var config = TestConfig.Single(TestConfig.Server("a", a)) with
        {
            Vips = ValueList.Create(new VipConfig { Name = "api", Address = VipAddress, Interface = "eth0" }),
            VipInterfaces = ValueList.Create(new VipInterfaceConfig { Vip = "api", Interface = "bond0" }),
        };
        await using var node = await SwitchmanTestNode.StartAsync(config, output, AdminTestNodes.Options with { VipTools = TestNodeOptions.NoOpVipTools });

        var vips = await UntilVipsAsync(node, v => Row(v) is { } row && row.GetProperty("held_here").GetBoolean(), "the node to hold VIP api");

        Assert.Equal("bond0", Str(Row(vips)!.Value, "interface"));
    }

    [Fact]
    public async Task Standby_TakesTheNodesVip_Online_GivesItBack()
    {
        await using var node = await StartAsync("test0", TestNodeOptions.NoOpVipTools);
        await UntilVipsAsync(node, v => Row(v) is { } r && Str(r, "holder") == NodeId && r.GetProperty("held_here").GetBoolean(), "the node to hold VIP api");

        using (var standby = await node.Admin.PostAsync($"/api/v1/nodes/{NodeId}/standby", null))
        {
            Assert.Equal(HttpStatusCode.OK, standby.StatusCode);
            var standing = JsonDocument.Parse(await standby.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal((NodeId, true, "ops"), (Str(standing, "node"), standing.GetProperty("standby").GetBoolean(), Str(standing, "standby_author")));
        }
        var away = await UntilVipsAsync(node, v => Row(v) is { } r && !r.TryGetProperty("holder", out _) && !r.GetProperty("held_here").GetBoolean(),
            "VIP api to be taken from the node in standby");

        var row = Row(away)!.Value;
        Assert.Equal(("standby", NodeId), (Str(row, "reason"), Str(row, "previous_node")));
        var listed = Assert.Single(away.GetProperty("nodes").EnumerateArray());
        Assert.Equal((NodeId, true, "ops"), (Str(listed, "node"), listed.GetProperty("standby").GetBoolean(), Str(listed, "standby_author")));
        Assert.True((await node.StatusJsonAsync()).GetProperty("node").GetProperty("standby").GetBoolean());
        var events = node.Events.Since(0).ToList();
        Assert.Contains(events, e => e.Type == "node_standby" && Equals(e.Data["node"], NodeId) && Equals(e.Data["author"], "ops"));
        Assert.Contains(events, e => e.Type == "vip_unassigned" && Equals(e.Data["vip"], "api") && Equals(e.Data["reason"], "standby"));

        using (var online = await node.Admin.PostAsync($"/api/v1/nodes/{NodeId}/online", null))
        {
            Assert.Equal(HttpStatusCode.OK, online.StatusCode);
            var standing = JsonDocument.Parse(await online.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal((NodeId, false), (Str(standing, "node"), standing.GetProperty("standby").GetBoolean()));
            Assert.False(standing.TryGetProperty("standby_author", out _));
        }
        var back = await UntilVipsAsync(node, v => Row(v) is { } r && Str(r, "holder") == NodeId && r.GetProperty("held_here").GetBoolean(),
            "VIP api to be given back to the node once online");

        Assert.Empty(back.GetProperty("nodes").EnumerateArray());
        Assert.False((await node.StatusJsonAsync()).GetProperty("node").GetProperty("standby").GetBoolean());
        Assert.Contains(node.Events.Since(0), e => e.Type == "node_online" && Equals(e.Data["node"], NodeId));
    }

    [Fact]
    public async Task Standby_UnknownNode_404_WithoutToken_401_ReadToken_403_NothingChanges()
    {
        await using var node = await StartAsync("nosuch0", vipTools: null);

        using (var unknown = await node.Admin.PostAsync("/api/v1/nodes/nope/standby", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            var error = JsonDocument.Parse(await unknown.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal($"node 'nope' does not exist: this node runs alone, as '{NodeId}'", Str(error, "error"));
            Assert.Equal([NodeId], error.GetProperty("nodes").EnumerateArray().Select(n => n.GetString()));
        }
        using (var anonymous = await node.Anonymous.PostAsync($"/api/v1/nodes/{NodeId}/standby", null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }
        using (var reader = await node.Reader.PostAsync($"/api/v1/nodes/{NodeId}/standby", null))
        {
            Assert.Equal(HttpStatusCode.Forbidden, reader.StatusCode);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await node.Anonymous.GetAsync("/api/v1/vips")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await node.Reader.GetAsync("/api/v1/vips")).StatusCode);

        var vips = await VipsAsync(node);
        Assert.DoesNotContain(vips.GetProperty("nodes").EnumerateArray(), n => n.GetProperty("standby").GetBoolean());
        Assert.DoesNotContain(node.Events.Since(0), e => e.Type == "node_standby");
    }

    [Fact]
    public async Task Vips_NoneConfigured_EmptyLists()
    {
        var a = await _backends.StartAsync("a");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a)), output, AdminTestNodes.Options);

        var vips = await VipsAsync(node);

        Assert.Equal(NodeId, Str(vips, "node"));
        Assert.Empty(vips.GetProperty("vips").EnumerateArray());
        Assert.Empty(vips.GetProperty("nodes").EnumerateArray());
        Assert.Empty((await node.StatusJsonAsync()).GetProperty("vips").EnumerateArray());
    }

    /// <summary>A node alone with server a behind frontend web and VIP api (<see cref="VipAddress"/>) on <paramref name="vipInterface"/>.</summary>
    private async Task<SwitchmanTestNode> StartAsync(string vipInterface, Switchman.Vips.ILinkOperations? vipTools)
    {
        var a = await _backends.StartAsync("a");
        var config = TestConfig.Single(TestConfig.Server("a", a)) with
        {
            Vips = ValueList.Create(new VipConfig { Name = "api", Address = VipAddress, Interface = vipInterface }),
        };
        return await SwitchmanTestNode.StartAsync(config, output, AdminTestNodes.Options with { VipTools = vipTools });
    }

    private static async Task<JsonElement> VipsAsync(SwitchmanTestNode node) =>
        JsonDocument.Parse(await node.Reader.GetStringAsync("/api/v1/vips")).RootElement;

    /// <summary>Polls <c>GET /api/v1/vips</c> until <paramref name="condition"/> holds; returns that answer.</summary>
    private static async Task<JsonElement> UntilVipsAsync(SwitchmanTestNode node, Func<JsonElement, bool> condition, string whatWeAwait)
    {
        JsonElement last = default;
        await Await.UntilAsync(async () => condition(last = await VipsAsync(node)), Timeout, whatWeAwait);
        return last;
    }

    private static JsonElement? Row(JsonElement vips) =>
        vips.GetProperty("vips").EnumerateArray().Cast<JsonElement?>().FirstOrDefault(v => Str(v!.Value, "name") == "api");

    /// <summary>Why this node says it cannot serve <paramref name="vip"/>; null when it does not say so.</summary>
    private static string? Unready(JsonElement vips, string vip) =>
        vips.GetProperty("nodes").EnumerateArray()
            .Where(n => Str(n, "node") == NodeId && n.TryGetProperty("unready", out _))
            .Select(n => n.GetProperty("unready").TryGetProperty(vip, out var why) ? why.GetString() : null)
            .FirstOrDefault();

    private static string? Str(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) ? value.GetString() : null;
}
