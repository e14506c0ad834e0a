using System.Text.Json.Nodes;
using Switchman.Testing;

namespace Switchman.CliTests;

/// <summary>
/// <c>switchman vips</c> and the VIPs in <c>switchman status</c>, against recorded answers of a cluster node's admin API
/// (<see cref="RecordedAdminApi"/>): VIPs held, moved, released, and where the answering node disagrees with the state.
/// </summary>
public sealed class VipsCommandTests : IAsyncLifetime
{
    /// <summary>
    /// GET /api/v1/vips as lb1 answers it: api is lb1's and on its interface; web1 moved from lb3 to lb2; web2 was taken
    /// from lb1 (standby) and its address is still on lb1; admin is given to lb1 but not on its interface. lb1 is in
    /// standby, lb2 cannot serve admin.
    /// </summary>
    private const string Vips = """
        {"node": "lb1",
         "vips": [
           {"name": "api", "address": "192.0.2.10/24", "interface": "eth0", "holder": "lb1", "since": "2026-01-05T10:00:00+00:00", "reason": "placed", "term": 3, "held_here": true},
           {"name": "web1", "address": "192.0.2.21/24", "interface": "eth0", "pool": "web", "holder": "lb2", "since": "2026-01-05T10:02:00+00:00", "reason": "node lost", "previous_node": "lb3", "term": 3, "held_here": false},
           {"name": "web2", "address": "192.0.2.22/24", "interface": "eth0", "pool": "web", "since": "2026-01-05T10:03:00+00:00", "reason": "standby", "previous_node": "lb1", "term": 3, "held_here": true},
           {"name": "admin", "address": "192.0.2.30/24", "interface": "eth1", "holder": "lb1", "since": "2026-01-05T10:04:00+00:00", "reason": "placed", "term": 3, "held_here": false},
           {"name": "spare", "address": "2001:db8::40/64", "interface": "eth0", "held_here": false}],
         "nodes": [
           {"node": "lb1", "standby": true, "standby_author": "ops", "unready": {}, "vips": ["api", "admin"]},
           {"node": "lb2", "standby": false, "unready": {"admin": "cannot add VIP 192.0.2.20/24 on eth1: interface eth1 does not exist on this node"}, "vips": ["web1"]}]}
        """;

    private RecordedAdminApi _api = null!;

    public async Task InitializeAsync() => _api = await RecordedAdminApi.StartAsync();

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task Vips_Table_HolderSinceReason_DisagreementsAndStandingsSpelledOut()
    {
        _api.Answer("GET", "/api/v1/vips", Vips);

        var result = await _api.RunAsync("vips");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"^│ VIP +│ Address +│ Holder +│ Here +│ Since +│ Reason +│$", Assert.Single(result.Output, l => l.StartsWith("│ VIP ", StringComparison.Ordinal)));
        var rows = Rows(result);
        Assert.True(rows.Count == 5, result.ToString()); // no cell wraps
        Assert.Matches(@"^│ api +│ 192\.0\.2\.10/24 +│ lb1 \(this node\) +│ yes +│ 2026-01-05 10:00:00Z │ placed +│$", rows[0]);
        Assert.Matches(@"^│ web1 \(pool web\) +│ 192\.0\.2\.21/24 +│ lb2 +│ - +│ 2026-01-05 10:02:00Z │ node lost, was on lb3 +│$", rows[1]);
        Assert.Matches(@"^│ web2 \(pool web\) +│ 192\.0\.2\.22/24 +│ nobody +│ still here +│ 2026-01-05 10:03:00Z │ standby, was on lb1 +│$", rows[2]);
        Assert.Matches(@"^│ admin +│ 192\.0\.2\.30/24 +│ lb1 \(this node\) +│ missing +│ 2026-01-05 10:04:00Z │ placed +│$", rows[3]);
        Assert.Matches(@"^│ spare +│ 2001:db8::40/64 +│ nobody +│ - +│ - +│ - +│$", rows[4]);
        Assert.Contains("VIP web2: 192.0.2.22/24 is still on eth0 here, though nobody holds it; this node removes it at its next look", result.Output);
        Assert.Contains("VIP admin: this node holds it, but 192.0.2.30/24 is not on eth1 here; see vip_failed in `switchman events`", result.Output);
        Assert.Contains("node lb1 (this node): standby, set by ops; it is given no VIP until `switchman node online lb1`", result.Output);
        Assert.Contains("node lb2 cannot serve admin: cannot add VIP 192.0.2.20/24 on eth1: interface eth1 does not exist on this node", result.Output);
        Assert.DoesNotContain('\u001b', result.StandardOutput);
        Assert.All(result.Output, line => Assert.True(line.Length <= 120, $"line longer than 120 columns: {line}"));
        Assert.Equal(("GET", "/api/v1/vips"), (Assert.Single(_api.Requests).Method, _api.Requests[0].Target));
    }

    [Fact]
    public async Task Vips_Json_IsTheDocument()
    {
        _api.Answer("GET", "/api/v1/vips", Vips);

        var result = await _api.RunAsync("vips", "--output", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Empty(result.Error);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Vips), JsonNode.Parse(result.StandardOutput)), result.ToString());
    }

    [Fact]
    public async Task Vips_NoneConfigured_SaysSo()
    {
        _api.Answer("GET", "/api/v1/vips", """{"node": "lb1", "vips": [], "nodes": []}""");

        var result = await _api.RunAsync("vips");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["no VIPs are configured (see vips: in the configuration)"], result.Output);
    }

    [Fact]
    public async Task Status_WithVips_ShowsTheStandbyAndTheVipTable()
    {
        _api.Answer("GET", "/api/v1/status", """
            {"node": {"revision": 40, "started_at": "2026-01-05T10:00:00+00:00", "version": "1.0.0", "id": "lb1", "standby": true},
             "ready": true, "frontends": [], "backends": [],
             "vips": [
               {"name": "api", "address": "192.0.2.10/24", "interface": "eth0", "since": "2026-01-05T10:03:00+00:00", "reason": "standby", "previous_node": "lb1", "term": 3, "held_here": true}]}
            """);

        var result = await _api.RunAsync("status");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("Node: ready, standby (holds no VIP), revision 40, version 1.0.0, started 2026-01-05 10:00:00Z", result.Output[0]);
        var vips = result.Output.ToList().IndexOf("VIPs");
        Assert.True(vips > 0 && vips < result.Output.ToList().IndexOf("Frontends"), result.ToString());
        Assert.Matches(@"^│ api +│ 192\.0\.2\.10/24 +│ nobody +│ still here +│ 2026-01-05 10:03:00Z │ standby, was on lb1 +│$", Assert.Single(Rows(result)));
        Assert.Contains("VIP api: 192.0.2.10/24 is still on eth0 here, though nobody holds it; this node removes it at its next look", result.Output);
    }

    [Fact]
    public async Task Status_WithoutVips_NoVipSection()
    {
        _api.Answer("GET", "/api/v1/status", """{"node": {"revision": 4, "id": "lb1"}, "ready": true, "frontends": [], "backends": [], "vips": []}""");

        var result = await _api.RunAsync("status");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain("VIPs", result.Output);
        Assert.DoesNotContain("standby", result.Output[0], StringComparison.Ordinal);
    }

    /// <summary>The table's body rows (not its header).</summary>
    private static List<string> Rows(CliResult result) =>
        [.. result.Output.Where(l => l.StartsWith("│ ", StringComparison.Ordinal) && !l.StartsWith("│ VIP ", StringComparison.Ordinal)
            && !l.StartsWith("│ Name ", StringComparison.Ordinal))];
}
