using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.ClusterFunctionalTests;

/// <summary>
/// Three real processes with the default timings; the leader is frozen with SIGSTOP, as a paused VM or a stuck host
/// would be. Unlike a killed process, a frozen one refuses nothing: its kernel still accepts connections, and nothing
/// is ever answered on them.
/// </summary>
public sealed class FrozenMemberTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);
    private const string Refused = "switchman_cluster_refused_connections";

    [Fact]
    public async Task A_frozen_leader_is_replaced_the_status_says_so_and_it_rejoins_without_being_counted_as_an_intruder()
    {
        await using var lab = new SwitchmanTestCluster(output, voters: 3);
        await lab.StartAllAsync();
        var frozen = await lab.WaitForLeaderAsync();
        var survivors = lab.Nodes.Where(n => n != frozen).ToList();
        // A cluster that has been running: every node knows every member's admin URL (learned from its first answer).
        await Await.UntilAsync(async () => await lab.ViewAsync(survivors[1]) is { Lags.Count: 3 }, Converge,
            $"{survivors[1].Id} to have heard from every member");
        var refusedBefore = await Task.WhenAll(lab.Nodes.Select(n => lab.MetricAsync(n, Refused)));

        await lab.FreezeAsync(frozen);
        try
        {
            // A change through a survivor commits without the frozen leader: the other two elect a new one.
            var added = await lab.AddServerAsync(survivors[0], "while-frozen");
            Assert.True(added.Status == HttpStatusCode.Created, $"{(int)added.Status} {added.Body}\n{lab.DescribeLogs(survivors[0])}");

            // The members view answers, within its own timeout, with the frozen member as a row that says so.
            var asked = Stopwatch.StartNew();
            using var response = await lab.Http.GetAsync(new Uri($"{survivors[1].AdminUrl}/api/v1/cluster"));
            var body = await response.Content.ReadAsStringAsync();
            output.WriteLine($"GET /api/v1/cluster answered {(int)response.StatusCode} in {asked.ElapsedMilliseconds} ms: {body}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var row = JsonDocument.Parse(body).RootElement.GetProperty("members").EnumerateArray()
                .Single(m => m.GetProperty("id").GetString() == frozen.Id);
            Assert.Contains("did not answer", row.GetProperty("error").GetString(), StringComparison.Ordinal);
            Assert.False(row.TryGetProperty("applied_index", out var applied) && applied.ValueKind == JsonValueKind.Number);
        }
        finally
        {
            await lab.ThawAsync(frozen);
        }

        // Back, it learns that it lost the leadership, catches up, and everyone agrees.
        var leader = await lab.WaitForLeaderAsync(Converge);
        Assert.NotEqual(frozen, leader);
        foreach (var node in lab.Nodes)
        {
            await Await.UntilAsync(async () => (await lab.ServersAsync(node)).Servers.Contains("while-frozen"), Converge,
                $"{node.Id} to run the change made while {frozen.Id} was frozen");
        }
        await Await.UntilAsync(async () =>
        {
            var views = await Task.WhenAll(lab.Nodes.Select(lab.ViewAsync));
            return views.All(v => v is not null) && views.Select(v => (v!.Term, v.Revision, v.AppliedIndex)).Distinct().Count() == 1;
        }, Converge, "every node to report the same term, revision and applied index");

        // Connections the others had left half-open while it was frozen ended mid-handshake: they are abandoned
        // handshakes, not refusals (an alert on refusals must mean a peer without the secret).
        var refusedAfter = await Task.WhenAll(lab.Nodes.Select(n => lab.MetricAsync(n, Refused)));
        Assert.Equal(refusedBefore, refusedAfter);
    }
}
