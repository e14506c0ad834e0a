using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.CliTests;

/// <summary>
/// <c>switchman members [add|remove]</c>, and the cluster line of <c>switchman status</c>: against recorded answers of a
/// cluster's admin API (<see cref="RecordedAdminApi"/>), and against a real node that runs alone.
/// </summary>
public sealed class MembersCommandTests(ITestOutputHelper output) : IAsyncLifetime
{
    private RecordedAdminApi _api = null!;

    public async Task InitializeAsync() => _api = await RecordedAdminApi.StartAsync();

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task Members_Table_EveryMember_WithTheLeaderMarked_LagAndLastContact()
    {
        _api.Answer("GET", "/api/v1/cluster", () => RecordedCluster.Status(TimeProvider.System.GetUtcNow()));

        var result = await _api.RunAsync("members");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("Cluster: node lb1 (voter), term 3, leader lb2, revision 40, commit index 42", result.Output[0]);
        var rows = result.Output.Where(l => l.StartsWith("│ ", StringComparison.Ordinal) && !l.StartsWith("│ ID ", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, rows.Count);
        Assert.Matches(@"^│ lb1 \(this node\) +│ 127\.0\.0\.1:7001 │ voter +│ +│ available +│ +40 │ +0 │ - +│$", rows[0]);
        Assert.Matches(@"^│ lb2 +│ 127\.0\.0\.1:7002 │ voter +│ +\* +│ available +│ +40 │ +0 │ \d+\.\ds ago +│$", rows[1]);
        Assert.Matches(@"^│ lb3 +│ 127\.0\.0\.1:7003 │ voter +│ +│ available +│ +39 │ +5 │ \d+\.\ds ago +│$", rows[2]);
        Assert.Matches(@"^│ w4 +│ 127\.0\.0\.1:7004 │ witness +│ +│ unavailable +│ +- │ +- │ \dm\d\ds ago +│$", rows[3]);
        Assert.Single(result.Output, l => l.Contains('*', StringComparison.Ordinal));
        // Just now: the leader was heard from 0.2 s before the answer.
        var ago = double.Parse(Regex.Match(rows[1], @"(\d+\.\d)s ago").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(ago, 0.2, 9.9);
        Assert.Contains("w4 (127.0.0.1:7004): connection refused", result.Output);
        Assert.DoesNotContain('\u001b', result.StandardOutput);
        Assert.All(result.Output, line => Assert.True(line.Length <= 120, $"line longer than 120 columns: {line}"));
        Assert.Equal($"Bearer {TestTokens.AdminToken}", Assert.Single(_api.Requests).Authorization);
    }

    [Fact]
    public async Task Members_Table_NoLeader_SaysSo()
    {
        _api.Answer("GET", "/api/v1/cluster", """
            {"enabled": true, "node_id": "lb1", "role": "voter", "term": 4, "commit_index": 42, "applied_index": 41, "revision": 40,
             "members": [{"id": "lb1", "address": "127.0.0.1:7001", "role": "voter", "leader": false, "local": true, "status": "available", "lag": 1}]}
            """);

        var result = await _api.RunAsync("members");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("Cluster: node lb1 (voter), term 4, no leader, revision 40, commit index 42, applied 41", result.Output[0]);
        Assert.DoesNotContain(result.Output, l => l.Contains('*', StringComparison.Ordinal));
    }

    [Fact]
    public async Task Members_Json_IsTheDocument()
    {
        var served = RecordedCluster.Status(TimeProvider.System.GetUtcNow());
        _api.Answer("GET", "/api/v1/cluster", served);

        var result = await _api.RunAsync("members", "--output", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Empty(result.Error);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(served), JsonNode.Parse(result.StandardOutput)), result.ToString());
    }

    [Fact]
    public async Task Members_NodeRunsAlone_SaysSo_Exit1()
    {
        _api.Answer("GET", "/api/v1/cluster", """{"enabled": false}""");

        var table = await _api.RunAsync("members");
        var json = await _api.RunAsync("members", "-o", "json");

        Assert.True(table.ExitCode == 1, table.ToString());
        Assert.Equal("switchman: this node runs alone (no cluster: section)", table.StandardError);
        Assert.Empty(table.Output);
        Assert.True(json.ExitCode == 1, json.ToString());
        Assert.False(JsonDocument.Parse(json.StandardOutput).RootElement.GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task Members_RealNodeThatRunsAlone_SaysSo_Exit1_AndStatusHasNoClusterLine()
    {
        await using var node = await CliTarget.StartAsync(output);

        var members = await node.RunAsync("members");
        var status = await node.RunAsync("status");

        Assert.True(members.ExitCode == 1, members.ToString());
        Assert.Equal("switchman: this node runs alone (no cluster: section)", members.StandardError);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.DoesNotContain(status.Output, l => l.StartsWith("Cluster", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Add_PostsAddressAndId_PrintsTheMembership()
    {
        _api.Answer("POST", "/api/v1/cluster/members", () => RecordedCluster.Change("added", "127.0.0.1:7005", "lb5", TimeProvider.System.GetUtcNow()));

        var result = await _api.RunAsync("members", "add", "127.0.0.1:7005", "--id", "lb5");

        Assert.True(result.ExitCode == 0, result.ToString());
        var request = Assert.Single(_api.Requests);
        Assert.Equal(("POST", "/api/v1/cluster/members"), (request.Method, request.Target));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"address": "127.0.0.1:7005", "id": "lb5"}"""), JsonNode.Parse(request.Body)), request.Body);
        Assert.Equal("member lb5 (127.0.0.1:7005) added", result.Output[0]);
        Assert.Contains("5 members now:", result.Output);
        Assert.Single(result.Output, l => Regex.IsMatch(l, @"^│ lb5 +│ 127\.0\.0\.1:7005 │ voter +│ +│ available +│ +40 │ +0 │ \d+\.\ds ago +│$"));
    }

    [Fact]
    public async Task Add_WithoutId_LeavesItOut_Json_IsTheAnswer()
    {
        var served = RecordedCluster.Change("added", "127.0.0.1:7005", "lb5", TimeProvider.System.GetUtcNow());
        _api.Answer("POST", "/api/v1/cluster/members", served);

        var result = await _api.RunAsync("members", "add", "127.0.0.1:7005", "-o", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"address": "127.0.0.1:7005"}"""), JsonNode.Parse(Assert.Single(_api.Requests).Body)));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(served), JsonNode.Parse(result.StandardOutput)), result.ToString());
    }

    [Fact]
    public async Task Remove_ById_Deletes_PrintsTheMembership_AndSaysToStopTheNode()
    {
        _api.Answer("DELETE", "/api/v1/cluster/members/lb3", () => RecordedCluster.Change("removed", "127.0.0.1:7003", "lb3", TimeProvider.System.GetUtcNow()));

        var result = await _api.RunAsync("members", "remove", "lb3");

        Assert.True(result.ExitCode == 0, result.ToString());
        var request = Assert.Single(_api.Requests);
        Assert.Equal(("DELETE", "/api/v1/cluster/members/lb3", ""), (request.Method, request.Target, request.Body));
        Assert.Equal("member lb3 (127.0.0.1:7003) removed: stop its switchman process now", result.Output[0]);
        Assert.Contains("3 members now:", result.Output);
        Assert.DoesNotContain(result.Output, l => l.StartsWith("│ lb3 ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Remove_ByAddress_TheAddressIsOnePathSegment()
    {
        _api.Answer("DELETE", "/api/v1/cluster/members/127.0.0.1:7003", () => RecordedCluster.Change("removed", "127.0.0.1:7003", "lb3", TimeProvider.System.GetUtcNow()));

        var result = await _api.RunAsync("members", "remove", "127.0.0.1:7003");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("/api/v1/cluster/members/127.0.0.1%3A7003", Assert.Single(_api.Requests).Target);
        Assert.Equal("member lb3 (127.0.0.1:7003) removed: stop its switchman process now", result.Output[0]);
    }

    [Fact]
    public async Task Remove_UnknownMember_PrintsTheError_Exit1()
    {
        _api.Answer("DELETE", "/api/v1/cluster/members/lb9", """{"error": "no member 'lb9'; the members are lb1, lb2, lb3, w4"}""", status: 404);

        var result = await _api.RunAsync("members", "remove", "lb9");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("switchman: no member 'lb9'; the members are lb1, lb2, lb3, w4", result.StandardError);
    }

    [Fact]
    public async Task Members_NodeWithoutTheClusterApi_SaysSo_Exit1()
    {
        // No route: an empty 404, not the API's error document.
        _api.Answer("GET", "/api/v1/cluster", "", status: 404);

        var result = await _api.RunAsync("members");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal($"switchman: {_api.Url}/ has no cluster API (404): is it a Switchman version without clusters?", result.StandardError);
    }

    [Fact]
    public async Task Add_NoLeader503_PrintsTheErrorAndWhenToRetry_Exit1()
    {
        _api.Answer("POST", "/api/v1/cluster/members", """{"error": "the cluster has no leader now (an election is under way)"}""", status: 503, retryAfter: 2);

        var result = await _api.RunAsync("members", "add", "127.0.0.1:7005");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Empty(result.Output);
        Assert.Equal(
            ["switchman: the cluster has no leader now (an election is under way)", "switchman: check `switchman members`, then try again in 2 s"],
            result.Error);
    }

    [Fact]
    public async Task Members_NoQuorum503_Json_PrintsTheErrorDocument_Exit1()
    {
        _api.Answer("GET", "/api/v1/cluster", """{"error": "quorum lost"}""", status: 503);

        var result = await _api.RunAsync("members", "-o", "json");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("quorum lost", JsonDocument.Parse(result.StandardOutput).RootElement.GetProperty("error").GetString());
        Assert.Equal(["switchman: quorum lost", "switchman: try again in a moment"], result.Error);
    }

    [Theory]
    [InlineData("members")]
    [InlineData("members", "add", "127.0.0.1:7005")]
    [InlineData("members", "remove", "lb3")]
    public async Task WrongToken_401_Exit2(params string[] arguments)
    {
        var result = await Cli.RunAsync([.. arguments, .. _api.Connect("not-a-token")]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("(401)", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OptionsBeforeTheSubcommand_Refused_NothingSent()
    {
        var result = await Cli.RunAsync(["members", .. _api.Connect(), "remove", "lb3"]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("--endpoint goes after 'remove'", result.StandardError, StringComparison.Ordinal);
        Assert.Empty(_api.Requests);
    }

    [Fact]
    public async Task Status_WithACluster_ShowsTheClusterLine()
    {
        _api.Answer("GET", "/api/v1/status", RecordedCluster.NodeStatus);

        var result = await _api.RunAsync("status");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("Node: ready, revision 40, version 1.0.0, started 2026-01-05 10:00:00Z", result.Output[0]);
        Assert.Equal("Cluster: node lb2 (voter), term 3, leader lb2 (this node), revision 40, commit index 42", result.Output[1]);
    }

    /// <summary>Documents in the shapes of <c>src/Switchman.Admin/Api/ClusterDocuments.cs</c> (snake_case, nulls left out).</summary>
    private static class RecordedCluster
    {
        /// <summary>GET /api/v1/status of lb2, the leader.</summary>
        public const string NodeStatus = """
            {"node": {"revision": 40, "started_at": "2026-01-05T10:00:00+00:00", "version": "1.0.0"},
             "ready": true,
             "frontends": [{"name": "web", "listen": "127.0.0.1:8080", "urls": ["http://127.0.0.1:8080"]}],
             "backends": [],
             "cluster": {"enabled": true, "node_id": "lb2", "role": "voter", "term": 3, "leader": "lb2", "commit_index": 42, "applied_index": 42, "revision": 40}}
            """;

        /// <summary>
        /// GET /api/v1/cluster as lb1 sees it at <paramref name="now"/>: lb2 leads, lb3 lags 5 entries behind, witness w4
        /// has not answered for 95 s.
        /// </summary>
        public static string Status(DateTimeOffset now) => $$"""
            {"enabled": true, "node_id": "lb1", "role": "voter", "term": 3, "leader": "lb2", "commit_index": 42, "applied_index": 42, "revision": 40,
             "members": [{{string.Join(", ", Members(now))}}]}
            """;

        /// <summary>POST or DELETE /api/v1/cluster/members: <paramref name="id"/> added to or removed from <see cref="Status"/>'s members.</summary>
        public static string Change(string change, string address, string id, DateTimeOffset now)
        {
            var members = Members(now).Where(m => !m.Contains($"\"{id}\"", StringComparison.Ordinal)).ToList();
            if (change == "added")
            {
                members.Add(Member(id, address, "voter", leader: false, local: false, "available", now.AddSeconds(-0.3), revision: 40, appliedIndex: 42, lag: 0));
            }
            return $$"""{"change": "{{change}}", "address": "{{address}}", "id": "{{id}}", "members": [{{string.Join(", ", members)}}]}""";
        }

        private static List<string> Members(DateTimeOffset now) =>
        [
            Member("lb1", "127.0.0.1:7001", "voter", leader: false, local: true, "available", lastContact: null, revision: 40, appliedIndex: 42, lag: 0),
            Member("lb2", "127.0.0.1:7002", "voter", leader: true, local: false, "available", now.AddSeconds(-0.2), revision: 40, appliedIndex: 42, lag: 0),
            Member("lb3", "127.0.0.1:7003", "voter", leader: false, local: false, "available", now.AddSeconds(-1.5), revision: 39, appliedIndex: 37, lag: 5),
            Member("w4", "127.0.0.1:7004", "witness", leader: false, local: false, "unavailable", now.AddSeconds(-95), revision: null, appliedIndex: null, lag: null,
                error: "connection refused"),
        ];

        private static string Member(
            string id, string address, string role, bool leader, bool local, string status, DateTimeOffset? lastContact,
            long? revision, long? appliedIndex, long? lag, string? error = null)
        {
            var member = new JsonObject
            {
                ["id"] = id,
                ["address"] = address,
                ["admin_url"] = $"http://127.0.0.1:{9090 + (address[^1] - '0')}",
                ["role"] = role,
                ["leader"] = leader,
                ["local"] = local,
                ["status"] = status,
                ["last_contact"] = lastContact?.ToString("O", CultureInfo.InvariantCulture),
                ["term"] = 3,
                ["revision"] = revision,
                ["applied_index"] = appliedIndex,
                ["lag"] = lag,
                ["error"] = error,
            };
            // As the node writes them: absent values left out.
            foreach (var name in member.Where(p => p.Value is null).Select(p => p.Key).ToList())
            {
                member.Remove(name);
            }
            return member.ToJsonString();
        }
    }
}
