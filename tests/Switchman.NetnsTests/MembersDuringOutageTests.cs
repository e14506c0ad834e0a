using System.Net;
using System.Text.Json;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.NetnsTests;

/// <summary>
/// What an operator sees while a member is powered off: <c>GET /api/v1/cluster</c> and <c>switchman members</c> on a
/// survivor must answer, in their time, with the member shown as unreachable. That is when they are needed most.
/// </summary>
[Collection(NetworkLabCollection.Name)]
public sealed class MembersDuringOutageTests(ITestOutputHelper output)
{
    /// <summary>The cluster view asks every member for its report, each for up to 1 s (ClusterEndpoints.ReportTimeout); this leaves room for a busy machine.</summary>
    private static readonly TimeSpan ApiAnswer = TimeSpan.FromSeconds(5);

    /// <summary>The CLI's own request timeout is 30 s (AdminClientSettings); on top, .NET start-up of the CLI process.</summary>
    private static readonly TimeSpan CliAnswer = TimeSpan.FromSeconds(60);

    /// <summary>For the survivors to notice that the member does not answer (a few request timeouts).</summary>
    private static readonly TimeSpan Notice = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Cluster_view_and_members_answer_in_time_on_a_survivor_and_show_the_powered_off_member_unavailable()
    {
        await using var cluster = await NetnsCluster.StartAsync(output);
        var leader = await cluster.WaitForLeaderAsync(cluster.Nodes, Converge);
        await cluster.WaitForAgreementAsync(Converge);
        // A follower goes dark, so the cluster keeps its leader and only the view of the missing member is at stake.
        var dark = cluster.Nodes.First(n => n != leader);
        var survivors = cluster.Nodes.Where(n => n != dark).ToList();

        await cluster.PowerOffAsync(dark);
        // The leader first (it keeps sending to the dark member), then the other follower (which never sends to it).
        foreach (var survivor in survivors.OrderBy(n => n == leader ? 0 : 1))
        {
            await AssertApiShowsUnavailableAsync(cluster, survivor, dark);
            await AssertCliShowsUnavailableAsync(cluster, survivor, dark);
        }

        await cluster.PowerOnAsync(dark);
        await cluster.WaitForAgreementAsync(Converge);
    }

    /// <summary>Every answer is a 200 within <see cref="ApiAnswer"/>; soon one shows the dark member unavailable.</summary>
    private async Task AssertApiShowsUnavailableAsync(NetnsCluster cluster, NetnsNode survivor, NetnsNode dark)
    {
        var lastRow = "(no answer yet)";
        try
        {
            await Await.UntilAsync(async () =>
            {
                var (status, body, elapsed) = await cluster.GetClusterAsync(survivor, ApiAnswer);
                output.WriteLine($"GET /api/v1/cluster on {survivor.Id}: {(int)status} after {elapsed.TotalMilliseconds:0} ms");
                Assert.True(status == HttpStatusCode.OK,
                    $"GET /api/v1/cluster on {survivor.Id} while {dark.Id} is powered off: {(int)status} after {elapsed.TotalMilliseconds:0} ms: {body}");
                lastRow = MemberRow(body, dark.Id) ?? $"(no row for {dark.Id})";
                return MemberStatus(body, dark.Id) == "unavailable";
            }, Notice, $"{survivor.Id}'s GET /api/v1/cluster to show {dark.Id} unavailable");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} Its last row for {dark.Id}: {lastRow}", e);
        }
    }

    /// <summary><c>switchman members -o json</c> on the operator's workstation, against the survivor: exit 0, the dark member unavailable.</summary>
    private async Task AssertCliShowsUnavailableAsync(NetnsCluster cluster, NetnsNode survivor, NetnsNode dark)
    {
        var (exitCode, text, took) = await cluster.RunCliAsync(survivor, CliAnswer, "members", "-o", "json");
        output.WriteLine($"switchman members against {survivor.Id}: exit {exitCode} after {took.TotalMilliseconds:0} ms\n{text}");
        Assert.True(exitCode == 0, $"switchman members against {survivor.Id} while {dark.Id} is powered off: exit {exitCode}\n{text}");
        Assert.True(MemberStatus(text, dark.Id) == "unavailable", $"switchman members against {survivor.Id} shows {dark.Id} as: {MemberRow(text, dark.Id)}");
    }

    /// <summary>The status field of member <paramref name="id"/> in a cluster document.</summary>
    private static string? MemberStatus(string clusterJson, string id) =>
        Member(clusterJson, id, m => m.GetProperty("status").GetString());

    /// <summary>The JSON of member <paramref name="id"/>'s row, for messages.</summary>
    private static string? MemberRow(string clusterJson, string id) => Member(clusterJson, id, m => m.GetRawText());

    private static string? Member(string clusterJson, string id, Func<JsonElement, string?> select)
    {
        using var document = JsonDocument.Parse(clusterJson);
        return document.RootElement.GetProperty("members").EnumerateArray()
            .Where(m => m.TryGetProperty("id", out var memberId) && memberId.GetString() == id)
            .Select(select)
            .FirstOrDefault();
    }
}
