using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Switchman.Admin.Control;
using Switchman.Cluster;
using Switchman.Cluster.Membership;
using Switchman.Core.Configuration;

namespace Switchman.Admin.Cluster;

/// <summary>
/// Starts this node's cluster member before the data plane (so a restarted node serves what it last agreed to) and
/// stops it after; turns what happens in the cluster into node events.
/// </summary>
public sealed class ClusterService(ClusterNode node, NodeEvents events, SwitchmanConfig config, ILogger<ClusterService> logger) : IHostedService
{
    /// <summary>
    /// Peer ids from the configuration file by cluster address: a peer is named by id even before this node has heard
    /// it announce its id (at start-up, or when it has been unreachable from the start).
    /// </summary>
    private readonly Dictionary<string, string> _configuredIds = ConfiguredIds(config);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        node.LeaderChanged += (leader, term) => events.Publish(
            "leader_changed",
            leader is null ? $"no leader in term {term}" : $"{Name(leader)} is the leader in term {term}",
            new Dictionary<string, object?> { ["leader"] = leader is null ? null : Name(leader), ["address"] = leader?.Address, ["term"] = term });
        node.MemberAdded += member => events.Publish(
            "member_joined", $"member {Name(member)} joined the cluster", Data(member));
        node.MemberRemoved += member => events.Publish(
            "member_left", $"member {Name(member)} left the cluster", Data(member));
        node.MemberReachabilityChanged += (member, reachable) =>
        {
            if (reachable)
            {
                ClusterServiceLog.MemberReachable(logger, Name(member), member.Address);
            }
            else
            {
                ClusterServiceLog.MemberUnreachable(logger, Name(member), member.Address);
            }
            events.Publish(
                reachable ? "member_reachable" : "member_unreachable",
                $"member {Name(member)} is {(reachable ? "reachable again" : "unreachable")}", Data(member));
        };
        await node.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => node.StopAsync(cancellationToken);

    private string Name(ClusterMemberView member) => member.Id ?? _configuredIds.GetValueOrDefault(member.Address) ?? member.Address;

    private Dictionary<string, object?> Data(ClusterMemberView member) =>
        new() { ["member"] = Name(member), ["address"] = member.Address, ["role"] = member.Role };

    private static Dictionary<string, string> ConfiguredIds(SwitchmanConfig config)
    {
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        if (config.Cluster is not { } cluster)
        {
            return ids;
        }
        foreach (var peer in cluster.Peers)
        {
            // The same textual form as the member's address (validation has checked it is an IP:port).
            if (System.Net.IPEndPoint.TryParse(peer.Address, out var endpoint))
            {
                ids[ClusterAddress.Format(endpoint)] = peer.Id;
            }
        }
        return ids;
    }
}

internal static partial class ClusterServiceLog
{
    [LoggerMessage(EventId = 2131, Level = LogLevel.Warning, Message = "Cluster member {Member} ({Address}) is unreachable")]
    public static partial void MemberUnreachable(ILogger logger, string member, string address);

    // Recovery is good news, not a warning: an alert on warnings should fire when a member is lost, not when it returns.
    [LoggerMessage(EventId = 2132, Level = LogLevel.Information, Message = "Cluster member {Member} ({Address}) is reachable again")]
    public static partial void MemberReachable(ILogger logger, string member, string address);
}
