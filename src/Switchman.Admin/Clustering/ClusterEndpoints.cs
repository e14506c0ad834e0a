using Switchman.Core.Changes;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Switchman.Admin.Api;
using Switchman.Admin.Api.Auth;
using Switchman.Admin.Control;
using Switchman.Cluster;
using Switchman.Cluster.Membership;
using static DotNext.Net.Cluster.Consensus.Raft.RaftCluster<DotNext.Net.Cluster.Consensus.Raft.RaftClusterMember>;

namespace Switchman.Admin.Clustering;

/// <summary>
/// <c>/api/v1/cluster</c> (status, members add/remove) and the node-to-node endpoints under <c>/_cluster</c>, which
/// take no bearer token but a signature made with the cluster secret.
/// </summary>
internal static class ClusterEndpoints
{
    private static readonly TimeSpan ReportTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MembershipSettleWait = TimeSpan.FromSeconds(2);

    /// <summary>
    /// DotNext raises MemberAdded and MemberRemoved a moment before its member list shows the change, so a wait for the
    /// list also looks again this often.
    /// </summary>
    private static readonly TimeSpan MembershipSettleRecheck = TimeSpan.FromMilliseconds(20);

    public static async Task<IResult> GetClusterAsync(ClusterContext cluster, ConfigStore store, CancellationToken cancellationToken) =>
        ApiResults.Json(await BuildStatusAsync(cluster, store, withMembers: true, cancellationToken).ConfigureAwait(false), ApiResults.Documents.ClusterStatusDocument);

    /// <summary>This node's view plus, for each member, its own report (asked in parallel, a second at most).</summary>
    public static async Task<ClusterStatusDocument> BuildStatusAsync(ClusterContext cluster, ConfigStore store, bool withMembers, CancellationToken cancellationToken)
    {
        if (cluster.Node is not { } node)
        {
            return new ClusterStatusDocument(Enabled: false);
        }
        var self = Self(node, store);
        IReadOnlyList<ClusterMemberDocument>? members = null;
        if (withMembers)
        {
            var views = node.Members;
            var reports = await Task.WhenAll(views.Select(v => ReportAsync(cluster, v, self, cancellationToken))).ConfigureAwait(false);
            var commit = reports.Max(r => r.Report?.CommitIndex ?? 0);
            members = [.. views.Zip(reports, (v, r) => new ClusterMemberDocument(
                v.Id, v.Address, v.AdminUrl, v.Role, v.IsLeader, v.IsLocal, v.Status, v.LastContact,
                r.Report?.Term, r.Report?.Revision, r.Report?.AppliedIndex,
                r.Report is { } report ? Math.Max(0, commit - report.AppliedIndex) : null,
                r.Error))];
        }
        return new ClusterStatusDocument(
            Enabled: true, node.NodeId, self.Role, node.Term, self.Leader, node.CommitIndex, self.AppliedIndex, store.Current.Revision, members);
    }

    public static async Task<IResult> AddMemberAsync(HttpRequest request, ClusterContext cluster, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (Alone(cluster) is { } alone)
        {
            return alone;
        }
        var (body, error) = await JsonBody.ReadAsync(request, "{\"address\": \"192.0.2.14:7000\", \"id\": \"lb4\"}", cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return error!;
        }
        body.RejectUnknown("address", "id");
        var address = body.String("address", required: true);
        var id = body.String("id", required: false);
        if (address is not null && !IPEndPoint.TryParse(address, out _))
        {
            body.Fail("address", "must be the new node's cluster address as IP:port (its cluster.listen)");
        }
        if (body.Errors.Count > 0)
        {
            return body.Invalid();
        }
        return await ChangeMembershipAsync(cluster, "add", ClusterAddress.Format(ClusterAddress.Parse(address!)), id, cancellationToken).ConfigureAwait(false);
    }

    public static async Task<IResult> RemoveMemberAsync(string member, ClusterContext cluster, CancellationToken cancellationToken)
    {
        if (Alone(cluster) is { } alone)
        {
            return alone;
        }
        var found = cluster.Node!.Members.FirstOrDefault(m => m.Id == member || m.Address == member);
        if (found is null)
        {
            // A member that joined a moment ago may not have told us its id yet.
            await cluster.Node.LearnMetadataAsync(cancellationToken).ConfigureAwait(false);
            found = cluster.Node.Members.FirstOrDefault(m => m.Id == member || m.Address == member);
        }
        if (found is null)
        {
            return ApiResults.Error(StatusCodes.Status404NotFound,
                $"no member '{member}'; members: {string.Join(", ", cluster.Node.Members.Select(m => m.Id ?? m.Address))}");
        }
        return await ChangeMembershipAsync(cluster, "remove", found.Address, found.Id, cancellationToken).ConfigureAwait(false);
    }

    public static void MapInternal(IEndpointRouteBuilder endpoints)
    {
        // No query parameter: the signature covers the method, path and body, not a query string.
        endpoints.MapPost(LeaderForwarder.ProposePath, ProposeAsync).AllowAnonymous().ExcludeFromDescription().AcceptsQuery();
        endpoints.MapPost(LeaderForwarder.MembersPath, InternalMembershipAsync).AllowAnonymous().ExcludeFromDescription().AcceptsQuery();
        endpoints.MapGet(LeaderForwarder.SelfPath, GetSelfAsync).AllowAnonymous().ExcludeFromDescription().AcceptsQuery();
        endpoints.MapGet(Services.ServerObserver.Path + "{backend}/{server}", GetServerViewAsync).AllowAnonymous().ExcludeFromDescription().AcceptsQuery();
    }

    /// <summary>This load balancer's view of one server, for a rolling restart run from another node.</summary>
    private static async Task<IResult> GetServerViewAsync(
        string backend, string server, HttpRequest request, ClusterContext cluster, Services.ServerObserver observer, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var (_, refused) = await ReadSignedAsync(request, cluster, loggers, cancellationToken).ConfigureAwait(false);
        return refused ?? Results.Json(observer.Local(backend, server), NodeToNodeJson.Default.ServerView);
    }

    /// <summary>On the leader: a follower's change, already validated there.</summary>
    private static async Task<IResult> ProposeAsync(HttpRequest request, ClusterContext cluster, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var (bytes, refused) = await ReadSignedAsync(request, cluster, loggers, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }
        if (ChangeCommand.FromBytes(bytes) is not { } command)
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, "the body is not a cluster command");
        }
        try
        {
            // The follower that forwarded it answers its client once it runs the change: the commit is published at once.
            var outcome = await cluster.Node!.ProposeAsync(command, cancellationToken).ConfigureAwait(false);
            return Results.Json(outcome, NodeToNodeJson.Default.ChangeOutcome);
        }
        catch (ClusterNotLeaderException e)
        {
            return ApiResults.Error(StatusCodes.Status421MisdirectedRequest, e.Message);
        }
        catch (ClusterOutcomeUnknownException e)
        {
            return ApiResults.Error(StatusCodes.Status503ServiceUnavailable, e.Message);
        }
    }

    private static async Task<IResult> GetSelfAsync(HttpRequest request, ClusterContext cluster, ConfigStore store, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var (_, refused) = await ReadSignedAsync(request, cluster, loggers, cancellationToken).ConfigureAwait(false);
        return refused ?? Results.Json(Self(cluster.Node!, store), NodeToNodeJson.Default.ClusterSelfDocument);
    }

    internal sealed record MembershipOperation(string Op, string Address, string? Id);

    private static async Task<IResult> InternalMembershipAsync(HttpRequest request, ClusterContext cluster, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var (bytes, refused) = await ReadSignedAsync(request, cluster, loggers, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }
        var operation = JsonSerializer.Deserialize(bytes, NodeToNodeJson.Default.MembershipOperation);
        return operation is null
            ? ApiResults.Error(StatusCodes.Status400BadRequest, "the body is not a membership operation")
            : await ChangeMembershipAsync(cluster, operation.Op, operation.Address, operation.Id, cancellationToken, forwarded: true).ConfigureAwait(false);
    }

    /// <summary>On the leader: changes the membership; elsewhere: asks the leader to, and relays its answer.</summary>
    /// <param name="forwarded">Asked by another node for its client: "local" would name this node, not the one the client asked.</param>
    private static async Task<IResult> ChangeMembershipAsync(
        ClusterContext cluster, string op, string address, string? id, CancellationToken cancellationToken, bool forwarded = false)
    {
        var node = cluster.Node!;
        if (!node.IsLeader)
        {
            var body = JsonSerializer.SerializeToUtf8Bytes(new MembershipOperation(op, address, id), NodeToNodeJson.Default.MembershipOperation);
            using var response = await cluster.Forwarder!.SendToLeaderAsync(HttpMethod.Post, LeaderForwarder.MembersPath, body, cancellationToken).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return Results.Text(text, "application/json; charset=utf-8", statusCode: (int)response.StatusCode);
        }
        var endpoint = ClusterAddress.Parse(address);
        var isMember = node.Members.Any(m => m.Address == address);
        if (op == "add" && isMember)
        {
            return ApiResults.Error(StatusCodes.Status409Conflict, $"{address} is already a member");
        }
        try
        {
            var done = op == "add"
                ? await node.AddMemberAsync(endpoint, cancellationToken).ConfigureAwait(false)
                : await node.RemoveMemberAsync(endpoint, cancellationToken).ConfigureAwait(false);
            if (!done)
            {
                return ApiResults.Error(StatusCodes.Status409Conflict, op == "add"
                    ? $"{address} did not catch up with the log in time and was not added: is it running, with cluster.join: true, cluster.listen {address} and the cluster's secret? Try again once it is"
                    : $"{address} was not removed: it is not a member");
            }
        }
        catch (ConcurrentMembershipModificationException)
        {
            return ApiResults.Error(StatusCodes.Status409Conflict, "another membership change is in progress; change one member at a time and try again");
        }
        if (op == "add" && id is not null && await ReportedIdAsync(node, address, cancellationToken).ConfigureAwait(false) is var reported && reported != id)
        {
            // Not the node the operator meant (a typo in the address, a port reused): take it out again.
            await node.RemoveMemberAsync(endpoint, cancellationToken).ConfigureAwait(false);
            return ApiResults.Error(StatusCodes.Status409Conflict,
                $"the node at {address} reports node_id '{reported}', not '{id}'; it was not added (check the address, or drop --id)");
        }
        var members = await MembersAfterAsync(node, address, added: op == "add", cancellationToken).ConfigureAwait(false);
        var memberId = id ?? members.FirstOrDefault(m => m.Address == address)?.Id;
        var documents = members.Select(m => new ClusterMemberDocument(
            m.Id, m.Address, m.AdminUrl, m.Role, m.IsLeader, m.IsLocal && !forwarded, m.Status, m.LastContact, null, null, null, null, null)).ToList();
        return ApiResults.Json(new MembershipChangeDocument(op == "add" ? "added" : "removed", address, memberId, documents), ApiResults.Documents.MembershipChangeDocument);
    }

    /// <summary>
    /// The membership once this node's list shows the change (DotNext updates it as the change is applied, a moment
    /// after the call returns); bounded, so a slow list never holds the answer back for long.
    /// </summary>
    private static async Task<IReadOnlyList<ClusterMemberView>> MembersAfterAsync(ClusterNode node, string address, bool added, CancellationToken cancellationToken) =>
        await node.WaitForViewAsync(
            () => node.Members is var members && members.Any(m => m.Address == address) == added ? members : null,
            MembershipSettleWait, cancellationToken, recheck: MembershipSettleRecheck).ConfigureAwait(false)
        ?? node.Members;

    /// <summary>
    /// The node_id the member at <paramref name="address"/> reports; "(unknown)" if it did not tell within two seconds.
    /// Asked again whenever the view changes (it became reachable, a background ask learnt it) and at least every
    /// <see cref="MembershipSettleRecheck"/>.
    /// </summary>
    private static async Task<string> ReportedIdAsync(ClusterNode node, string address, CancellationToken cancellationToken) =>
        await node.WaitForViewAsync(async token =>
        {
            await node.LearnMetadataAsync(token).ConfigureAwait(false);
            return node.Members.FirstOrDefault(m => m.Address == address)?.Id;
        }, MembershipSettleWait, cancellationToken, recheck: MembershipSettleRecheck).ConfigureAwait(false)
        ?? "(unknown)";

    private static ClusterSelfDocument Self(ClusterNode node, ConfigStore store)
    {
        var leader = node.Leader;
        return new ClusterSelfDocument(
            node.NodeId, node.RoleName, node.Term, leader?.Id ?? leader?.Address, node.CommitIndex, node.AppliedIndex, store.Current.Revision);
    }

    private static async Task<(ClusterSelfDocument? Report, string? Error)> ReportAsync(
        ClusterContext cluster, ClusterMemberView member, ClusterSelfDocument self, CancellationToken cancellationToken)
    {
        if (member.IsLocal)
        {
            return (self, null);
        }
        if (member.AdminUrl is null)
        {
            return (null, "not reached yet (its id and admin URL are unknown)");
        }
        return await cluster.Forwarder!.GetAsync(member.AdminUrl, LeaderForwarder.SelfPath, NodeToNodeJson.Default.ClusterSelfDocument, ReportTimeout, cancellationToken).ConfigureAwait(false);
    }

    private static IResult? Alone(ClusterContext cluster) => cluster.Node is null
        ? ApiResults.Error(StatusCodes.Status409Conflict, "this node runs alone (its file has no cluster: section), so it has no members to change")
        : null;

    /// <summary>
    /// The body of a node-to-node call whose signature checks out, or the answer: 401, or 429 from an address that failed
    /// authentication too often (the same <see cref="AuthFailureLimiter"/> as bearer tokens; its refusals are not logged
    /// one by one, and from a limited address a call that claims a node never seen there is refused unread).
    /// </summary>
    private static async Task<(byte[] Body, IResult? Refused)> ReadSignedAsync(
        HttpRequest request, ClusterContext cluster, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var limiter = request.HttpContext.RequestServices.GetRequiredService<AuthFailureLimiter>();
        var address = request.HttpContext.Connection.RemoteIpAddress;
        string header = request.Headers[ClusterSignature.HeaderName].ToString();
        var claimed = "node " + header.Split(' ', 2)[0];
        if (!limiter.MayTry(address, claimed))
        {
            return ([], ApiResults.TooManyFailures(request.HttpContext, limiter.Refuse(address)));
        }
        if (cluster.Signature is null)
        {
            return ([], limiter.Fail(address) is { } wait
                ? ApiResults.TooManyFailures(request.HttpContext, wait)
                : ApiResults.Error(StatusCodes.Status401Unauthorized, "node-to-node call refused: this node runs alone (no cluster: section), so it has no cluster secret"));
        }
        var (body, tooLarge) = await RequestBody.ReadAsync(request, AdminListenerLimits.MaxNodeToNodeBytes, "the body", cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return ([], tooLarge);
        }
        var signer = cluster.Signature.Verify(header, request.Method, request.Path, body, out var reason);
        if (signer is null)
        {
            if (limiter.Fail(address) is { } wait)
            {
                return ([], ApiResults.TooManyFailures(request.HttpContext, wait));
            }
            ClusterEndpointLog.SignatureRefused(loggers.CreateLogger("Switchman.Admin.Clustering"), address?.ToString() ?? "?", request.Path, reason!);
            return ([], ApiResults.Error(StatusCodes.Status401Unauthorized, $"node-to-node call refused: {reason}"));
        }
        if (!limiter.Admit(address, "node " + signer))
        {
            return ([], ApiResults.TooManyFailures(request.HttpContext, limiter.Refuse(address)));
        }
        return (body, null);
    }

    
}

internal static partial class ClusterEndpointLog
{
    [LoggerMessage(EventId = 2121, Level = LogLevel.Warning, Message = "Refused a node-to-node call from {Remote} to {Path}: {Reason}")]
    public static partial void SignatureRefused(ILogger logger, string remote, string path, string reason);
}
