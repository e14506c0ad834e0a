using System.Diagnostics;
using System.Net;
using Switchman.Cluster;
using Switchman.Core.Changes;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.ClusterFunctionalTests;

/// <summary>
/// In-process nodes, so the leader's cluster traffic can be cut with the transport's fault hook (its admin API and
/// data plane keep running, as they would behind a broken cluster link).
/// </summary>
public sealed class PartitionTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task An_isolated_leader_stops_leading_and_commits_nothing_the_majority_moves_on_and_it_catches_up_after_the_heal()
    {
        await using var cluster = new SwitchmanTestCluster(output, voters: 3, run: TestClusterNodes.InProcess);
        await cluster.StartAllAsync();
        var oldLeader = await cluster.WaitForLeaderAsync();
        var majority = cluster.Nodes.Where(n => n != oldLeader).ToList();
        var isolated = cluster.Member(oldLeader);
        Assert.True(isolated.IsLeader);
        var leadership = isolated.LeadershipToken;
        Assert.False(leadership.IsCancellationRequested);

        var cut = Stopwatch.StartNew();
        isolated.TrafficGate.Isolate();

        // Proposed on the isolated leader right away: it cannot reach a majority, so it must not commit.
        var lostWeight = new SetServerWeightCommand
        {
            ChangeId = ChangeCommand.NewChangeId(), Author = "test", ProposedAt = DateTimeOffset.UnixEpoch, Backend = "api", Server = "seed", Weight = 77,
        };
        await Assert.ThrowsAnyAsync<Exception>(() => isolated.ProposeAsync(lostWeight, CancellationToken.None));

        await Await.UntilAsync(() => leadership.IsCancellationRequested && !isolated.IsLeader, Converge, "the isolated leader to step down");
        output.WriteLine($"isolated leader stepped down {cut.ElapsedMilliseconds} ms after the cut (its leadership token was cancelled)");

        var newLeader = await cluster.WaitForLeaderAsync(majority);
        Assert.NotEqual(oldLeader, newLeader);
        // The majority's event streams tell the story: the old leader unreachable, a new leader.
        var witness = cluster.Node(majority.First(n => n != newLeader));
        // In a node's first seconds a lost member is reported once it stays lost (at most a second later): wait for it.
        await Await.UntilAsync(() => witness.Events.Since(0).Any(e => e.Type == "member_unreachable" && Equals(e.Data["member"], oldLeader.Id)),
            Converge, "the majority to report the old leader unreachable");
        var witnessOfIt = witness.Events.Since(0);
        Assert.Contains(witnessOfIt, e => e.Type == "leader_changed" && Equals(e.Data["leader"], newLeader.Id));
        var added = await cluster.AddServerAsync(majority.First(n => n != newLeader), "during-partition");
        Assert.True(added.Status == HttpStatusCode.Created, added.Body);

        // Through the isolated node's admin API: refused, and said so.
        var refused = await cluster.AddServerAsync(oldLeader, "through-isolated");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.Status);

        isolated.TrafficGate.Heal();
        await cluster.WaitForLeaderAsync();
        foreach (var node in cluster.Nodes)
        {
            await Await.UntilAsync(async () => (await cluster.ServersAsync(node)).Servers.Contains("during-partition"), Converge,
                $"{node.Id} to run the change made during the partition");
            var (revision, servers) = await cluster.ServersAsync(node);
            Assert.Equal(added.Revision, revision);
            Assert.DoesNotContain("through-isolated", servers);
            Assert.Null(cluster.Member(node).State.Overrides.GetValueOrDefault(SharedStateKey("api", "seed"))?.Weight);
        }
        Assert.Contains(cluster.Node(oldLeader).Events.Since(0), e => e.Type == "config_applied" && Equals(e.Data["revision"], added.Revision));

        // Every node's view of every member converges once healed: a follower that asked the isolated node for a vote
        // saw it fail, and followers send each other nothing in normal operation, so only probing brings this back.
        foreach (var node in cluster.Nodes)
        {
            await Await.UntilAsync(() => cluster.Member(node).Members.All(m => m.Status == "available"), Converge,
                $"{node.Id} to see every member available again after the heal");
        }
        Assert.Contains(cluster.Node(majority.First(n => n != newLeader)).Events.Since(0),
            e => e.Type == "member_reachable" && Equals(e.Data["member"], oldLeader.Id));
    }

    [Fact]
    public async Task A_node_with_the_wrong_secret_is_refused_and_nothing_it_sends_is_applied()
    {
        await using var cluster = new SwitchmanTestCluster(output, voters: 3, run: TestClusterNodes.InProcess);
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var before = cluster.Member(leader).State;

        // A fourth node that lists the three as peers but holds another secret.
        var rogueNode = cluster.NewMember("rogue");
        var rogueSecret = Path.Combine(cluster.Directory, "rogue.key");
        await File.WriteAllTextAsync(rogueSecret, RogueSecret);
        await cluster.StartExtraAsync(rogueNode, cluster.ConfigYaml(rogueNode, rogueSecret, peers: cluster.Nodes));
        var rogue = cluster.Node(rogueNode);

        await Await.UntilAsync(() => cluster.Nodes.Sum(n => cluster.Member(n).RefusedConnections) > 0, Converge, "the cluster to refuse the rogue's connections");
        // It stands for election over and over; no vote reaches anyone, so it never leads and cannot write.
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Null(rogue.Cluster!.Leader);
        await Assert.ThrowsAnyAsync<Exception>(() => rogue.Cluster.ProposeAsync(new SetServerWeightCommand
        {
            ChangeId = ChangeCommand.NewChangeId(), Author = "rogue", ProposedAt = DateTimeOffset.UnixEpoch, Backend = "api", Server = "seed", Weight = 13,
        }, CancellationToken.None));

        // Its node-to-node admin call, signed with its own secret, is refused too.
        using var forged = new HttpRequestMessage(HttpMethod.Post, new Uri($"{leader.AdminUrl}/_cluster/propose"))
        {
            Content = new ByteArrayContent(new SetServerWeightCommand
            {
                ChangeId = ChangeCommand.NewChangeId(), Author = "rogue", ProposedAt = DateTimeOffset.UnixEpoch, Backend = "api", Server = "seed", Weight = 13,
            }.ToBytes()),
        };
        var signature = new Admin.Clustering.ClusterSignature(System.Text.Encoding.UTF8.GetBytes(RogueSecret), TimeProvider.System);
        forged.Headers.Add(Admin.Clustering.ClusterSignature.HeaderName, signature.Sign("rogue", "POST", "/_cluster/propose", await forged.Content.ReadAsByteArrayAsync()));
        using var answer = await cluster.Http.SendAsync(forged);
        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);

        var after = cluster.Member(leader).State;
        Assert.Equal(before.Revision, after.Revision);
        Assert.Equal(before.Overrides, after.Overrides);
        Assert.Equal(leader, await cluster.WaitForLeaderAsync());
        Assert.DoesNotContain(cluster.Member(leader).Members, m => m.Address == rogueNode.ClusterAddress);
    }

    [Fact]
    public async Task A_node_joins_through_members_add_catches_up_takes_changes_and_leaves_through_members_remove()
    {
        await using var cluster = new SwitchmanTestCluster(output, voters: 3, run: TestClusterNodes.InProcess);
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var follower = cluster.Nodes.First(n => n != leader);
        for (var i = 0; i < 15; i++)
        {
            // Enough history that the newcomer catches up from a snapshot plus the log after it.
            await cluster.AddServerAcceptedAsync(follower, $"before-{i}");
        }

        var newcomer = cluster.NewMember("n4");
        await cluster.StartExtraAsync(newcomer, cluster.ConfigYaml(newcomer, join: true, peers: cluster.Nodes));
        var joining = cluster.Node(newcomer);

        // The wrong id for that address (a typo, a reused port): refused, and the node is not left in the membership.
        using var mistaken = await cluster.Http.PostAsync(new Uri($"{follower.AdminUrl}/api/v1/cluster/members"),
            JsonContent($"{{\"address\": \"{newcomer.ClusterAddress}\", \"id\": \"lb9\"}}"));
        var mistakenBody = await mistaken.Content.ReadAsStringAsync();
        Assert.True(mistaken.StatusCode == HttpStatusCode.Conflict, mistakenBody);
        Assert.Contains("reports node_id 'n4', not 'lb9'", mistakenBody, StringComparison.Ordinal);
        await Await.UntilAsync(() => cluster.Member(leader).Members.Count == 3, Converge, "the mistaken member to be taken out again");

        // Asked through a follower, which hands it to the leader.
        using var add = await cluster.Http.PostAsync(new Uri($"{follower.AdminUrl}/api/v1/cluster/members"),
            JsonContent($"{{\"address\": \"{newcomer.ClusterAddress}\", \"id\": \"n4\"}}"));
        Assert.True(add.IsSuccessStatusCode, await add.Content.ReadAsStringAsync());
        await Await.UntilAsync(() => cluster.Member(leader).Members.Count == 4, Converge, "the leader to list four members");
        await Await.UntilAsync(() => cluster.Node(follower).Events.Since(0).Any(e => e.Type == "member_joined" && Equals(e.Data["address"], newcomer.ClusterAddress)),
            Converge, "a member_joined event on the follower");
        await Await.UntilAsync(() => joining.RunningConfig.FindBackend("api")!.Servers.Any(s => s.Name == "before-14"), Converge,
            "the newcomer to catch up");

        var afterJoin = await cluster.AddServerAcceptedAsync(follower, "after-join");
        await Await.UntilAsync(() => joining.Revision == afterJoin, Converge, "the newcomer to apply a new change");

        using var remove = await cluster.Http.DeleteAsync(new Uri($"{follower.AdminUrl}/api/v1/cluster/members/n4"));
        var removed = await remove.Content.ReadAsStringAsync();
        Assert.True(remove.IsSuccessStatusCode, removed);
        // The answer lists the membership after the change.
        Assert.Equal(3, System.Text.Json.JsonDocument.Parse(removed).RootElement.GetProperty("members").GetArrayLength());
        await Await.UntilAsync(() => cluster.Nodes.All(n => cluster.Member(n).Members.Count == 3), Converge, "every member to list three members");
        Assert.Contains(cluster.Node(leader).Events.Since(0), e => e.Type == "member_left" && Equals(e.Data["address"], newcomer.ClusterAddress));
        await cluster.AddServerAcceptedAsync(follower, "after-leave");
    }

    private const string RogueSecret = "not-the-cluster-secret-at-all-0123456789";

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    private static string SharedStateKey(string backend, string server) => SharedState.ServerKey(backend, server);
}
