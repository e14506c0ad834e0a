using Switchman.Core.Configuration;

namespace Switchman.Core.Vips;

/// <summary>
/// Where each VIP should be, given which nodes can hold one now: the leader's one decision, pure so that it is tested
/// without a cluster. Rules, in order:
/// <list type="number">
/// <item>A VIP can go only to an eligible node (a load balancer that is reachable, online and can serve), and only to one
/// of its <c>nodes</c> when it lists some.</item>
/// <item>A VIP stays with its holder while the holder is eligible (keepalived's <c>nopreempt</c>), unless it has
/// <c>preempt: true</c> and a node it prefers more is eligible, or (a pool with <c>preempt: true</c>) the holder has
/// more of the pool than an even spread gives it.</item>
/// <item>A VIP to place goes to its most preferred eligible node when it lists some, else to the eligible node holding
/// the fewest VIPs (of its pool, for a pool member), ties going to the node listed first among the eligible ones.</item>
/// </list>
/// </summary>
public static class VipPlacement
{
    /// <param name="vips">The configured VIPs.</param>
    /// <param name="eligible">The nodes that may hold a VIP now, in a stable order (the cluster's member order).</param>
    /// <param name="current">Who holds each VIP now (missing or null: nobody).</param>
    /// <param name="canServe">Whether an eligible node can serve a given VIP (node, VIP name); all of them when null.</param>
    /// <returns>The holder each VIP should have; null when no eligible node may hold it.</returns>
    public static IReadOnlyDictionary<string, string?> Plan(
        IReadOnlyList<VipConfig> vips, IReadOnlyList<string> eligible, IReadOnlyDictionary<string, string?> current,
        Func<string, string, bool>? canServe = null)
    {
        canServe ??= static (_, _) => true;
        ArgumentNullException.ThrowIfNull(vips);
        ArgumentNullException.ThrowIfNull(eligible);
        ArgumentNullException.ThrowIfNull(current);
        var plan = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var vip in vips.Where(v => v.Pool is null))
        {
            var candidates = Candidates(vip, eligible, canServe);
            var holder = current.GetValueOrDefault(vip.Name);
            var keep = holder is not null && candidates.Contains(holder)
                && !(vip.Preempt && vip.Nodes.Count > 0 && candidates[0] != holder);
            plan[vip.Name] = keep ? holder : PickFor(vip, candidates, plan, vips);
        }
        foreach (var pool in vips.Where(v => v.Pool is not null).GroupBy(v => v.Pool!, StringComparer.Ordinal))
        {
            PlacePool([.. pool.OrderBy(v => v.Name, StringComparer.Ordinal)], eligible, current, plan, canServe);
        }
        return plan;
    }

    private static void PlacePool(List<VipConfig> pool, IReadOnlyList<string> eligible, IReadOnlyDictionary<string, string?> current, Dictionary<string, string?> plan,
        Func<string, string, bool> canServe)
    {
        foreach (var vip in pool)
        {
            var holder = current.GetValueOrDefault(vip.Name);
            plan[vip.Name] = holder is not null && Candidates(vip, eligible, canServe).Contains(holder) ? holder : null;
        }
        foreach (var vip in pool.Where(v => plan[v.Name] is null))
        {
            plan[vip.Name] = PickFor(vip, Candidates(vip, eligible, canServe), plan, pool);
        }
        if (!pool.Any(v => v.Preempt))
        {
            return;
        }
        // Even out: move one VIP at a time from the busiest node to the idlest one that may take it.
        for (var moves = 0; moves < pool.Count; moves++)
        {
            var loads = eligible.ToDictionary(n => n, n => pool.Count(v => plan[v.Name] == n), StringComparer.Ordinal);
            var move = pool.Where(v => v.Preempt && plan[v.Name] is { } from && loads.ContainsKey(from))
                .Select(v => (Vip: v, From: plan[v.Name]!, To: Candidates(v, eligible, canServe).OrderBy(n => loads[n]).ThenBy(eligible.IndexOf).FirstOrDefault()))
                .Where(m => m.To is not null && loads[m.From] - loads[m.To] > 1)
                .OrderByDescending(m => loads[m.From]).ThenByDescending(m => m.Vip.Name, StringComparer.Ordinal)
                .FirstOrDefault();
            if (move.Vip is null)
            {
                return;
            }
            plan[move.Vip.Name] = move.To;
        }
    }

    private static string? PickFor(VipConfig vip, List<string> candidates, Dictionary<string, string?> plan, IReadOnlyList<VipConfig> peers)
    {
        if (candidates.Count == 0)
        {
            return null;
        }
        if (vip.Nodes.Count > 0)
        {
            return candidates[0];
        }
        var peerNames = peers.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        return candidates
            .OrderBy(n => plan.Count(p => peerNames.Contains(p.Key) && p.Value == n))
            .First();
    }

    /// <summary>The eligible nodes this VIP may go to, most preferred first.</summary>
    private static List<string> Candidates(VipConfig vip, IReadOnlyList<string> eligible, Func<string, string, bool> canServe) =>
        vip.Nodes.Count > 0
            ? [.. vip.Nodes.Where(n => eligible.Contains(n) && canServe(n, vip.Name))]
            : [.. eligible.Where(n => canServe(n, vip.Name))];

    private static int IndexOf(this IReadOnlyList<string> nodes, string node)
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            if (nodes[i] == node)
            {
                return i;
            }
        }
        return int.MaxValue;
    }
}
