using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Switchman.Admin.Control;
using Switchman.Cluster;

namespace Switchman.Admin.Clustering;

/// <summary>
/// Starts this node's cluster member before the data plane (so a restarted node serves what it last agreed to) and
/// stops it after; turns what happens in the cluster into node events.
/// </summary>
public sealed class ClusterMemberLifetime(ClusterNode node, NodeEvents events, ILogger<ClusterMemberLifetime> logger) : IHostedService
{
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
                ClusterMemberLifetimeLog.Reachable(logger, Name(member), member.Address);
            }
            else
            {
                ClusterMemberLifetimeLog.Unreachable(logger, Name(member), member.Address);
            }
            events.Publish(
                reachable ? "member_reachable" : "member_unreachable",
                $"member {Name(member)} is {(reachable ? "reachable again" : "unreachable")}", Data(member));
        };
        await node.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => node.StopAsync(cancellationToken);

    private static string Name(ClusterMemberView member) => member.Id ?? member.Address;

    private static Dictionary<string, object?> Data(ClusterMemberView member) =>
        new() { ["member"] = Name(member), ["address"] = member.Address, ["role"] = member.Role };
}

internal static partial class ClusterMemberLifetimeLog
{
    [LoggerMessage(EventId = 2131, Level = LogLevel.Warning, Message = "Cluster member {Member} ({Address}) is unreachable")]
    public static partial void Unreachable(ILogger logger, string member, string address);

    /// <summary>Good news is not a warning.</summary>
    [LoggerMessage(EventId = 2132, Level = LogLevel.Information, Message = "Cluster member {Member} ({Address}) is reachable again")]
    public static partial void Reachable(ILogger logger, string member, string address);
}
