using System.Net;
using Switchman.Client;
using Switchman.Testing;

namespace Switchman.CliTests;

/// <summary>The typed client's cluster calls, against recorded answers (<see cref="RecordedAdminApi"/>).</summary>
public sealed class ClusterClientTests : IAsyncLifetime
{
    private RecordedAdminApi _api = null!;

    public async Task InitializeAsync() => _api = await RecordedAdminApi.StartAsync();

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task GetCluster_ReadsTheNodeAndEveryMember()
    {
        _api.Answer("GET", "/api/v1/cluster", """
            {"enabled": true, "node_id": "lb1", "role": "voter", "term": 3, "leader": "lb2", "commit_index": 42, "applied_index": 41, "revision": 40,
             "members": [
               {"id": "lb1", "address": "127.0.0.1:7001", "admin_url": "http://127.0.0.1:9091", "role": "voter", "leader": false, "local": true,
                "status": "available", "term": 3, "revision": 40, "applied_index": 41, "lag": 1},
               {"address": "127.0.0.1:7002", "leader": true, "local": false, "status": "unavailable",
                "last_contact": "2026-01-05T10:00:00.25Z", "error": "connection refused", "some_later_field": 1},
               {"address": "127.0.0.1:7003"}]}
            """);
        using var client = CreateClient();

        var cluster = (await client.GetClusterAsync(CancellationToken.None)).Value;

        Assert.True(cluster.Enabled);
        Assert.Equal(("lb1", "voter", 3L, "lb2", 42L, 41L, 40L),
            (cluster.NodeId, cluster.Role, cluster.Term, cluster.Leader, cluster.CommitIndex, cluster.AppliedIndex, cluster.Revision));
        Assert.Equal(3, cluster.Members.Count);
        var local = cluster.Members[0];
        Assert.Equal(("lb1", "http://127.0.0.1:9091", true, false, 1L), (local.Id, local.AdminUrl, local.Local, local.Leader, local.Lag));
        Assert.Null(local.LastContact);
        // A member not reached yet: no id, no report; what is missing takes its default.
        var leader = cluster.Members[1];
        Assert.Equal((null, "127.0.0.1:7002", true, "unavailable"), (leader.Id, leader.Address, leader.Leader, leader.Status));
        Assert.Equal(new DateTimeOffset(2026, 1, 5, 10, 0, 0, 250, TimeSpan.Zero), leader.LastContact);
        Assert.Equal((null, null, null, "connection refused"), (leader.Revision, leader.AppliedIndex, leader.Lag, leader.Error));
        Assert.Equal("127.0.0.1:7002", leader.Describe());
        var bare = cluster.Members[2];
        Assert.Equal(("127.0.0.1:7003", "unknown", false, false), (bare.Address, bare.Status, bare.Leader, bare.Local));
    }

    [Fact]
    public async Task GetCluster_NodeAlone_EnabledFalse_NoMembers()
    {
        _api.Answer("GET", "/api/v1/cluster", """{"enabled": false}""");
        using var client = CreateClient();

        var cluster = (await client.GetClusterAsync(CancellationToken.None)).Value;

        Assert.False(cluster.Enabled);
        Assert.Empty(cluster.Members);
        Assert.Null(cluster.NodeId);
    }

    [Fact]
    public async Task GetCluster_AnswerWithoutEnabled_IsNotTheApi()
    {
        // What a frontend given by mistake might answer: some JSON, but not the cluster document.
        _api.Answer("GET", "/api/v1/cluster", """{"method": "GET", "path": "/api/v1/cluster"}""");
        using var client = CreateClient();

        await Assert.ThrowsAsync<AdminProtocolException>(() => client.GetClusterAsync(CancellationToken.None));
    }

    [Fact]
    public async Task GetStatus_ReadsTheClusterSection_AbsentWhenAlone()
    {
        _api.Answer("GET", "/api/v1/status", """
            {"ready": true, "frontends": [], "backends": [],
             "cluster": {"enabled": true, "node_id": "lb1", "role": "witness", "term": 7, "commit_index": 9, "applied_index": 9, "revision": 5}}
            """);
        using var client = CreateClient();

        var withCluster = (await client.GetStatusAsync(CancellationToken.None)).Value;
        _api.Answer("GET", "/api/v1/status", """{"ready": true, "frontends": [], "backends": []}""");
        var alone = (await client.GetStatusAsync(CancellationToken.None)).Value;

        Assert.NotNull(withCluster.Cluster);
        Assert.Equal(("lb1", "witness", 7L, null, 5L), (withCluster.Cluster.NodeId, withCluster.Cluster.Role, withCluster.Cluster.Term, withCluster.Cluster.Leader, withCluster.Cluster.Revision));
        Assert.Null(alone.Cluster);
    }

    [Fact]
    public async Task AddMember_503_CarriesTheMessageAndRetryAfter()
    {
        _api.Answer("POST", "/api/v1/cluster/members", """{"error": "quorum lost"}""", status: 503, retryAfter: 3);
        using var client = CreateClient();

        var e = await Assert.ThrowsAsync<AdminApiException>(() => client.AddMemberAsync("127.0.0.1:7005", null, CancellationToken.None));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.StatusCode);
        Assert.Equal("quorum lost", e.Message);
        Assert.Equal(TimeSpan.FromSeconds(3), e.RetryAfter);
    }

    [Fact]
    public async Task RemoveMember_ReadsTheChange()
    {
        _api.Answer("DELETE", "/api/v1/cluster/members/lb3", """
            {"change": "removed", "address": "127.0.0.1:7003", "id": "lb3",
             "members": [{"id": "lb1", "address": "127.0.0.1:7001", "leader": true, "local": true, "status": "available"}]}
            """);
        using var client = CreateClient();

        var change = (await client.RemoveMemberAsync("lb3", CancellationToken.None)).Value;

        Assert.Equal((MembershipChanges.Removed, "127.0.0.1:7003", "lb3"), (change.Change, change.Address, change.Id));
        Assert.Equal("lb3 (127.0.0.1:7003)", change.Describe());
        Assert.Equal("lb1", Assert.Single(change.Members).Id);
    }

    private AdminClient CreateClient() => new(new AdminClientSettings(new Uri(_api.Url), TestTokens.AdminToken));
}
