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
    /// Starts watching who holds <paramref name="vips"/> (the cluster's one VIP by default) in the kernel's own order of
    /// address changes (<see cref="AddressTimeline"/>): not a poll of the nodes one after the other, which would see a
    /// VIP that moved between two reads on both nodes, and miss an overlap shorter than a round.
    /// </summary>
    public static Task<AddressTimeline> WatchAsync(NetnsCluster cluster, IReadOnlyList<VipAddress>? vips = null) =>
        AddressTimeline.StartAsync(cluster.Lab, (vips ?? [NetnsCluster.Vip]).Select(v => v.Address));

    /// <summary>Asserts that the VIPs were held, never by two nodes at once, and that the timeline missed nothing.</summary>
    public static void AssertNeverTwo(AddressTimeline timeline)
    {
        ArgumentNullException.ThrowIfNull(timeline);
        Assert.True(timeline.LostNotifications == 0 && timeline.ReaderError is null, $"the address timeline is incomplete\n{timeline.Describe()}");
        Assert.True(timeline.MostAtOnce() == 1, $"most nodes holding one VIP at once: {timeline.MostAtOnce()} (1 expected)\n{timeline.Describe()}");
    }
}
