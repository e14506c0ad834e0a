using Switchman.Core.Configuration;
using Switchman.Core.Vips;

namespace Switchman.Core.Tests.Vips;

/// <summary>Where the leader puts each VIP: active/passive with and without preemption, and pools spread evenly.</summary>
public sealed class VipPlacementTests
{
    private static readonly string[] All = ["lb1", "lb2", "lb3"];

    [Fact]
    public void An_unheld_vip_goes_to_its_most_preferred_eligible_node()
    {
        var vip = Vip("api", nodes: ["lb2", "lb1"]);

        Assert.Equal("lb2", Plan([vip], All)["api"]);
        Assert.Equal("lb1", Plan([vip], ["lb1", "lb3"])["api"]);
        Assert.Null(Plan([vip], ["lb3"])["api"]);
    }

    [Fact]
    public void Without_preempt_a_vip_stays_where_it_is_when_a_preferred_node_returns_and_with_preempt_it_moves_back()
    {
        var held = new Dictionary<string, string?> { ["api"] = "lb2" };

        Assert.Equal("lb2", Plan([Vip("api", nodes: ["lb1", "lb2"])], All, held)["api"]);
        Assert.Equal("lb1", Plan([Vip("api", nodes: ["lb1", "lb2"], preempt: true)], All, held)["api"]);
    }

    [Fact]
    public void A_holder_that_is_no_longer_eligible_loses_its_vip_to_the_next_node()
    {
        var held = new Dictionary<string, string?> { ["api"] = "lb1" };

        Assert.Equal("lb2", Plan([Vip("api", nodes: ["lb1", "lb2"])], ["lb2", "lb3"], held)["api"]);
        Assert.Equal("lb2", Plan([Vip("api")], ["lb2", "lb3"], held)["api"]);
        Assert.Null(Plan([Vip("api")], [], held)["api"]);
    }

    [Fact]
    public void Vips_without_a_preference_spread_over_the_least_loaded_nodes()
    {
        var plan = Plan([Vip("a"), Vip("b"), Vip("c"), Vip("d")], All);

        Assert.Equal(["lb1", "lb2", "lb3", "lb1"], new[] { "a", "b", "c", "d" }.Select(v => plan[v]));
    }

    [Fact]
    public void A_pool_spreads_evenly_a_lost_node_s_vip_moves_to_a_survivor_and_it_stays_there_when_the_node_returns()
    {
        VipConfig[] pool = [Vip("web-1", pool: "web"), Vip("web-2", pool: "web"), Vip("web-3", pool: "web")];

        var even = Plan(pool, All);
        Assert.Equal(["lb1", "lb2", "lb3"], pool.Select(v => even[v.Name]));

        var afterLoss = Plan(pool, ["lb1", "lb3"], even);
        Assert.Equal(["lb1", "lb1", "lb3"], pool.Select(v => afterLoss[v.Name]));

        var afterReturn = Plan(pool, All, afterLoss);
        Assert.Equal(afterLoss, afterReturn);
    }

    [Fact]
    public void A_pool_with_preempt_evens_out_again_when_the_node_returns_moving_one_vip()
    {
        VipConfig[] pool = [Vip("web-1", pool: "web", preempt: true), Vip("web-2", pool: "web", preempt: true), Vip("web-3", pool: "web", preempt: true)];
        var afterLoss = new Dictionary<string, string?> { ["web-1"] = "lb1", ["web-2"] = "lb1", ["web-3"] = "lb3" };

        var afterReturn = Plan(pool, All, afterLoss);

        Assert.Equal(["lb1", "lb2", "lb3"], pool.Select(v => afterReturn[v.Name]));
    }

    [Fact]
    public void Six_vips_in_a_pool_over_three_nodes_are_two_each_and_over_two_survivors_three_each()
    {
        VipConfig[] pool = [.. Enumerable.Range(1, 6).Select(i => Vip($"p{i}", pool: "p"))];

        var even = Plan(pool, All);
        Assert.All(All, node => Assert.Equal(2, even.Values.Count(v => v == node)));

        var survivors = Plan(pool, ["lb2", "lb3"], even);
        Assert.Equal((0, 3, 3), (survivors.Values.Count(v => v == "lb1"), survivors.Values.Count(v => v == "lb2"), survivors.Values.Count(v => v == "lb3")));
        // Only lb1's two VIPs moved.
        Assert.Equal(4, pool.Count(v => even[v.Name] == survivors[v.Name]));
    }

    private static IReadOnlyDictionary<string, string?> Plan(VipConfig[] vips, string[] eligible, IReadOnlyDictionary<string, string?>? current = null) =>
        VipPlacement.Plan(vips, eligible, current ?? new Dictionary<string, string?>());

    private static VipConfig Vip(string name, string[]? nodes = null, bool preempt = false, string? pool = null) => new()
    {
        Name = name, Address = "192.0.2.10/24", Interface = "eth0", Nodes = new ValueList<string>(nodes ?? []), Preempt = preempt, Pool = pool,
    };
}
