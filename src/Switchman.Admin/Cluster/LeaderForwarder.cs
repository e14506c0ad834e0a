using Switchman.Core.Changes;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Switchman.Cluster;

namespace Switchman.Admin.Cluster;

/// <summary>
/// Carries a change from a follower to the leader's admin API (signed with the cluster secret) and brings back its
/// outcome. Waits a bounded time for a leader when an election is under way; follows a leader change once or twice.
/// </summary>
public sealed class LeaderForwarder(ClusterNode node, ClusterSignature signature, HttpClient http, TimeProvider time) : IDisposable
{
    public const string ProposePath = AdminEndpoints.NodeToNodePrefix + "propose";
    public const string MembersPath = AdminEndpoints.NodeToNodePrefix + "members";
    public const string SelfPath = AdminEndpoints.NodeToNodePrefix + "self";

    private static readonly TimeSpan LeaderWait = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan LeaderPoll = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan LeaderChangeWait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(15);

    /// <summary>The client is this forwarder's own (made for it at start).</summary>
    public void Dispose() => http.Dispose();

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>
    /// Sends the command to the leader, or proposes it here if this node leads. While the leader is changing (it
    /// stopped leading, or cannot be reached and the others have not yet noticed) it tries again, for a bounded time;
    /// re-sending is safe because the command's id makes it apply at most once.
    /// </summary>
    public async Task<ChangeOutcome> ProposeAsync(ChangeCommand command, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            var leader = await WaitForLeaderAsync(cancellationToken).ConfigureAwait(false);
            string problem;
            try
            {
                if (leader.IsLocal)
                {
                    return await node.ProposeAsync(command, cancellationToken).ConfigureAwait(false);
                }
                using var response = await SendAsync(leader.AdminUrl!, HttpMethod.Post, ProposePath, command.ToBytes(), cancellationToken).ConfigureAwait(false);
                if (response.StatusCode != HttpStatusCode.MisdirectedRequest)
                {
                    return await ReadOutcomeAsync(response, command.ChangeId, cancellationToken).ConfigureAwait(false);
                }
                problem = $"{leader.Id ?? leader.Address} stopped leading";
            }
            catch (ClusterNotLeaderException e)
            {
                problem = e.Message;
            }
            catch (HttpRequestException e)
            {
                problem = $"leader {leader.Id ?? leader.Address} is unreachable: {e.Message}";
            }
            if (time.GetElapsedTime(started) >= LeaderChangeWait)
            {
                throw new ClusterOutcomeUnknownException(command.ChangeId, problem);
            }
            await Task.Delay(RetryDelay, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Asks the leader to add or remove a member; returns the leader's HTTP answer for the caller to relay.</summary>
    public async Task<HttpResponseMessage> SendToLeaderAsync(HttpMethod method, string path, byte[] body, CancellationToken cancellationToken)
    {
        var leader = await WaitForLeaderAsync(cancellationToken).ConfigureAwait(false);
        return await SendAsync(leader.AdminUrl!, method, path, body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A member's own report, or null with why not. Bounded by <paramref name="timeout"/>: a member that does not answer
    /// in time (powered off, frozen, cut off) is a report that says so, never an error of the caller's request.
    /// </summary>
    public async Task<(T? Document, string? Error)> GetAsync<T>(string adminUrl, string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        try
        {
            using var response = await SendAsync(adminUrl, HttpMethod.Get, path, [], bounded.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return (default, $"{(int)response.StatusCode} from {adminUrl}");
            }
            var document = await response.Content.ReadFromJsonAsync<T>(Json, bounded.Token).ConfigureAwait(false);
            return (document, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (default, $"{adminUrl} did not answer within {timeout.TotalMilliseconds:0} ms");
        }
        catch (Exception e) when (e is HttpRequestException or JsonException)
        {
            return (default, $"{adminUrl} did not answer: {e.Message}");
        }
    }

    private async Task<ClusterMemberView> WaitForLeaderAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            if (node.Leader is { } leader && (leader.IsLocal || leader.AdminUrl is not null))
            {
                return leader;
            }
            if (time.GetElapsedTime(started) >= LeaderWait)
            {
                throw new ClusterNotLeaderException(null);
            }
            await Task.Delay(LeaderPoll, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(string adminUrl, HttpMethod method, string path, byte[] body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(new Uri(adminUrl), path));
        request.Headers.TryAddWithoutValidation(ClusterSignature.HeaderName, signature.Sign(node.NodeId, method.Method, path, body));
        if (body.Length > 0 || method != HttpMethod.Get)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        return await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<ChangeOutcome> ReadOutcomeAsync(HttpResponseMessage response, string changeId, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return response.StatusCode switch
        {
            HttpStatusCode.OK => JsonSerializer.Deserialize<ChangeOutcome>(text, Json) ?? throw new ClusterOutcomeUnknownException(changeId, "the leader's answer was empty"),
            HttpStatusCode.MisdirectedRequest => throw new ClusterNotLeaderException(null),
            _ => throw new ClusterOutcomeUnknownException(changeId, $"the leader answered {(int)response.StatusCode}: {Truncate(text)}"),
        };
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
