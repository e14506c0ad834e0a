using Switchman.Core.Configuration;
using Switchman.Testing.Netns;
using Switchman.Vips;

namespace Switchman.NetnsTests;

/// <summary>Who holds a VIP, as each node's namespace has it (an rtnetlink address dump): the ground truth clients meet.</summary>
internal static class VipHolders
{
    public static LinkAddresses Addresses(NetnsNode node) => new(LinkOperations.InNamespace(node.Host.Namespace.Name, TimeProvider.System), TimeProvider.System);

    /// <summary>The nodes whose eth0 has <paramref name="vip"/> (the cluster's one VIP by default), in node order.</summary>
    public static async Task<List<string>> OfAsync(NetnsCluster cluster, VipAddress? vip = null)
    {
        var holders = new List<string>();
        foreach (var node in cluster.Nodes)
        {
            if (await Addresses(node).HasAsync(vip ?? NetnsCluster.Vip, "eth0", CancellationToken.None))
            {
                holders.Add(node.Id);
            }
        }
        return holders;
    }

    /// <summary>
    /// Samples every node's eth0 every few milliseconds until cancelled; returns the most nodes seen holding any one of
    /// <paramref name="vips"/> at once (1 is right; 2 is split brain).
    /// </summary>
    public static async Task<int> SampleMostAtOnceAsync(NetnsCluster cluster, IReadOnlyList<VipAddress> vips, CancellationToken cancellationToken)
    {
        var max = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            foreach (var vip in vips)
            {
                max = Math.Max(max, (await OfAsync(cluster, vip)).Count);
            }
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        return max;
    }
}
