using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Switchman.Admin.Clustering;
using Switchman.Admin.Control;
using Switchman.Admin.Vips;
using Switchman.Core.Changes;
using Switchman.Core.Configuration;

namespace Switchman.Admin.Api;

/// <summary>
/// <c>GET /api/v1/vips</c> (who holds each VIP, as the shared state says and as this node's interfaces have it) and
/// <c>POST /api/v1/nodes/{node}/standby|online</c> (like <c>pcs node standby</c>: the leader moves the node's VIPs away).
/// </summary>
internal static class VipEndpoints
{
    public static IResult GetVips(ConfigStore store, VipKeeper keeper, IVipMembership membership)
    {
        var state = store.State;
        return ApiResults.Json(new VipsDocument(
            membership.NodeId,
            Rows(state, keeper),
            [.. state.Nodes.Keys.Select(node => Standing(state, node))]), ApiResults.Documents.VipsDocument);
    }

    public static Task<IResult> StandbyAsync(
        string node, ClaimsPrincipal user, ConfigStore store, IVipMembership membership, ClusterContext cluster, CancellationToken cancellationToken) =>
        SetStandbyAsync(node, standby: true, user, store, membership, cluster, cancellationToken);

    public static Task<IResult> OnlineAsync(
        string node, ClaimsPrincipal user, ConfigStore store, IVipMembership membership, ClusterContext cluster, CancellationToken cancellationToken) =>
        SetStandbyAsync(node, standby: false, user, store, membership, cluster, cancellationToken);

    /// <summary>
    /// Every configured VIP in configuration order, with its assignment, the interface this node puts it on (its own
    /// <c>vip_interfaces</c> override, if any) and whether <paramref name="keeper"/> has it there.
    /// </summary>
    public static IReadOnlyList<VipStatusDocument> Rows(SharedState state, VipKeeper keeper)
    {
        var held = keeper.Held;
        return [.. (state.Config?.Vips ?? ValueList<VipConfig>.Empty).Select(vip =>
            Row(vip, keeper.InterfaceOf(vip), state.Vips.GetValueOrDefault(vip.Name), held.ContainsKey(vip.Name)))];
    }

    /// <param name="assignment">Null before the leader first assigned it.</param>
    private static VipStatusDocument Row(VipConfig vip, string interfaceHere, VipAssignment? assignment, bool heldHere) => new(
        vip.Name, vip.Address, interfaceHere, vip.Pool,
        assignment?.Node, assignment?.Since, assignment?.Reason, assignment?.PreviousNode, assignment?.Term, heldHere);

    private static async Task<IResult> SetStandbyAsync(
        string node, bool standby, ClaimsPrincipal user, ConfigStore store, IVipMembership membership, ClusterContext cluster, CancellationToken cancellationToken)
    {
        if (UnknownNode(node, membership, cluster) is { } notFound)
        {
            return notFound;
        }
        // Committed through the log (forwarded to the leader in a cluster); the leader's VIP assigner acts on it.
        var result = await store.SetNodeStandbyAsync(node, standby, ConfigEndpoints.Author(user), cancellationToken).ConfigureAwait(false);
        return result.Outcome.Accepted
            ? ApiResults.Json(Standing(store.State, node), ApiResults.Documents.NodeStandingDocument)
            : ApiResults.Error(StatusCodes.Status409Conflict, $"the change was refused: {result.Outcome.Refusal ?? "no reason given"}");
    }

    /// <summary>
    /// Null when <paramref name="node"/> can be named in a standby command: a member id of the cluster, or this node's own
    /// name when it runs alone. Otherwise the 404, listing the names that would do.
    /// </summary>
    private static IResult? UnknownNode(string node, IVipMembership membership, ClusterContext cluster)
    {
        if (cluster.Node is { } clustered)
        {
            var members = clustered.Members.Where(m => m.Id is not null).Select(m => m.Id!).ToList();
            return members.Contains(node)
                ? null
                : ApiResults.Error(StatusCodes.Status404NotFound, new ApiError(
                    $"node '{node}' is not a member of this cluster; members: {string.Join(", ", members)}")
                {
                    Nodes = members,
                });
        }
        return node == membership.NodeId
            ? null
            : ApiResults.Error(StatusCodes.Status404NotFound, new ApiError(
                $"node '{node}' does not exist: this node runs alone, as '{membership.NodeId}'")
            {
                Nodes = [membership.NodeId],
            });
    }

    private static NodeStandingDocument Standing(SharedState state, string node)
    {
        var standing = state.StandingOf(node);
        return new NodeStandingDocument(
            node, standing.Standby, standing.StandbyAuthor, standing.Unready,
            [.. state.Vips.Where(v => v.Value.Node == node).Select(v => v.Key)]);
    }
}
