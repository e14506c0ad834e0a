using System.Net;
using Switchman.Core.Configuration;
using Switchman.Proxy.Balancing;

namespace Switchman.Proxy.Tests;

public class BalancingTests
{
    [Fact]
    public void RoundRobin_Weights511_SpreadsPicksSmoothly()
    {
        var backend = TestBackends.Weighted(BalanceAlgorithm.RoundRobin, ("a", 5), ("b", 1), ("c", 1));

        var sequence = string.Concat(Enumerable.Range(0, 7).Select(_ => backend.Pick(default, null, [])!.Name));

        // nginx's smooth weighted round robin: the heavy server's picks are interleaved, not bunched.
        Assert.Equal("aabacaa", sequence);
    }

    [Fact]
    public void RoundRobin_Weights31_ExactShareOverWholeCycles()
    {
        var backend = TestBackends.Weighted(BalanceAlgorithm.RoundRobin, ("a", 3), ("b", 1));

        var counts = TestBackends.CountPicks(backend, 400);

        Assert.Equal(300, counts["a"]);
        Assert.Equal(100, counts["b"]);
    }

    [Fact]
    public void LeastConn_PicksServerWithFewestInFlightPerWeight()
    {
        var backend = TestBackends.Weighted(BalanceAlgorithm.LeastConn, ("a", 1), ("b", 1), ("c", 2));
        var (a, b, c) = (backend.Servers[0], backend.Servers[1], backend.Servers[2]);
        a.BeginRequest();
        a.BeginRequest();
        b.BeginRequest();
        c.BeginRequest();
        c.BeginRequest();
        // Loads (in-flight + 1) / weight: a = 3, b = 2, c = 1.5.

        Assert.Same(c, backend.Pick(default, null, []));
        c.BeginRequest();
        c.BeginRequest();
        // c = 2.5 now, b = 2: b wins.
        Assert.Same(b, backend.Pick(default, null, []));
    }

    [Fact]
    public void LeastConn_IdleServers_TakeTurns()
    {
        var backend = TestBackends.Weighted(BalanceAlgorithm.LeastConn, ("a", 1), ("b", 1), ("c", 1));

        var counts = TestBackends.CountPicks(backend, 300);

        Assert.All(counts.Values, count => Assert.Equal(100, count));
    }

    [Fact]
    public void Random_Weights31_ShareFollowsWeights()
    {
        var backend = TestBackends.Weighted(BalanceAlgorithm.Random, ("a", 3), ("b", 1));

        var counts = TestBackends.CountPicks(backend, 20_000);

        // With no load both draws are weighted; the first wins ties. Expect 75% ± 2%.
        Assert.InRange(counts["a"] / 20_000.0, 0.73, 0.77);
    }

    [Fact]
    public void Random_TwoChoices_AvoidsTheLoadedServer()
    {
        var backend = TestBackends.Weighted(BalanceAlgorithm.Random, ("a", 1), ("b", 1));
        for (var i = 0; i < 10; i++)
        {
            backend.Servers[0].BeginRequest();
        }

        var counts = TestBackends.CountPicks(backend, 1_000);

        // a is only chosen when both draws land on it: about a quarter of the time.
        Assert.InRange(counts["a"], 180, 320);
    }

    [Fact]
    public void Source_SameClient_AlwaysSameServer_AndClientsSpreadByWeight()
    {
        var backend = TestBackends.Weighted(BalanceAlgorithm.Source, ("a", 1), ("b", 1), ("c", 2));
        static BalancingKey Client(int i) => new(IPAddress.Parse($"10.{i / 65536 % 256}.{i / 256 % 256}.{i % 256}"), "/");

        for (var i = 0; i < 50; i++)
        {
            var first = backend.Pick(Client(i), null, []);
            Assert.Same(first, backend.Pick(Client(i), null, []));
        }
        var counts = TestBackends.CountPicks(backend, 20_000, Client);
        Assert.InRange(counts["c"] / 20_000.0, 0.40, 0.60);
        Assert.InRange(counts["a"] / 20_000.0, 0.17, 0.33);
    }

    [Fact]
    public void Uri_ServerLeaves_OnlyItsKeysMove()
    {
        var backend = TestBackends.Weighted(BalanceAlgorithm.Uri, ("a", 1), ("b", 1), ("c", 1));
        static BalancingKey Path(int i) => new(null, $"/items/{i}");
        var before = Enumerable.Range(0, 3_000).Select(i => backend.Pick(Path(i), null, [])!.Name).ToArray();

        backend.Servers[1].AdminState = ServerAdminState.Maint;
        var after = Enumerable.Range(0, 3_000).Select(i => backend.Pick(Path(i), null, [])!.Name).ToArray();

        for (var i = 0; i < before.Length; i++)
        {
            if (before[i] != "b")
            {
                Assert.Equal(before[i], after[i]);
            }
            Assert.NotEqual("b", after[i]);
        }
        Assert.InRange(before.Count(n => n == "b"), 700, 1_300);
    }

    [Fact]
    public void Pick_WeightZero_GetsNoNewRequests()
    {
        var backend = TestBackends.Weighted(BalanceAlgorithm.RoundRobin, ("a", 1), ("b", 0));

        var counts = TestBackends.CountPicks(backend, 50);

        Assert.Equal(0, counts["b"]);
    }
}
