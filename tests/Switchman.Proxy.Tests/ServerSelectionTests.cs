using Microsoft.Extensions.Time.Testing;
using Switchman.Core.Configuration;

namespace Switchman.Proxy.Tests;

public class ServerSelectionTests
{
    [Fact]
    public void Pick_PrimariesUp_BackupGetsNothing()
    {
        var backend = TestBackends.Create(BalanceAlgorithm.RoundRobin, null, null, ("a", 1, false), ("b", 1, false), ("spare", 1, true));

        var counts = TestBackends.CountPicks(backend, 100);

        Assert.Equal(0, counts["spare"]);
    }

    [Fact]
    public void Pick_AllPrimariesDown_BackupTakesEverything_UntilOneReturns()
    {
        var backend = TestBackends.Create(BalanceAlgorithm.RoundRobin, null, null, ("a", 1, false), ("b", 1, false), ("spare", 1, true));
        backend.Servers[0].SetHealthy(false);
        backend.Servers[1].AdminState = ServerAdminState.Maint;

        Assert.Equal(100, TestBackends.CountPicks(backend, 100)["spare"]);

        backend.Servers[0].SetHealthy(true);
        Assert.Equal(0, TestBackends.CountPicks(backend, 100)["spare"]);
    }

    [Fact]
    public void Pick_DrainAndMaint_GetNoNewRequests()
    {
        var backend = TestBackends.Weighted(BalanceAlgorithm.RoundRobin, ("a", 1), ("drained", 1), ("maint", 1));
        backend.Servers[1].AdminState = ServerAdminState.Drain;
        backend.Servers[2].AdminState = ServerAdminState.Maint;

        var counts = TestBackends.CountPicks(backend, 60);

        Assert.Equal(60, counts["a"]);
    }

    [Fact]
    public void Pick_StickyToDrainingServer_StillHonoured_ButNotToMaint()
    {
        var backend = TestBackends.Weighted(BalanceAlgorithm.RoundRobin, ("a", 1), ("b", 1));
        backend.Servers[1].AdminState = ServerAdminState.Drain;

        Assert.Equal("b", backend.Pick(default, "b", [])!.Name);

        backend.Servers[1].AdminState = ServerAdminState.Maint;
        Assert.Equal("a", backend.Pick(default, "b", [])!.Name);
    }

    [Fact]
    public void Pick_Retry_AvoidsServersAlreadyTried()
    {
        var backend = TestBackends.Weighted(BalanceAlgorithm.RoundRobin, ("a", 1), ("b", 1), ("c", 1));
        var a = backend.Servers[0];
        var b = backend.Servers[1];

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("c", backend.Pick(default, null, [a, b])!.Name);
        }
    }

    [Fact]
    public void Pick_EveryPrimaryTried_FallsBackToBackupThenRetriesSame()
    {
        var withBackup = TestBackends.Create(BalanceAlgorithm.RoundRobin, null, null, ("a", 1, false), ("spare", 1, true));
        Assert.Equal("spare", withBackup.Pick(default, null, [withBackup.Servers[0]])!.Name);

        var alone = TestBackends.Weighted(BalanceAlgorithm.RoundRobin, ("a", 1));
        Assert.Equal("a", alone.Pick(default, null, [alone.Servers[0]])!.Name);
    }

    [Fact]
    public void Pick_NothingAvailable_ReturnsNull()
    {
        var backend = TestBackends.Weighted(BalanceAlgorithm.LeastConn, ("a", 1));
        backend.Servers[0].SetHealthy(false);

        Assert.Null(backend.Pick(default, null, []));
    }

    [Fact]
    public void EffectiveWeight_ServerComesUp_RampsOverSlowStart()
    {
        var time = new FakeTimeProvider();
        var backend = TestBackends.Create(BalanceAlgorithm.RoundRobin, time, TimeSpan.FromSeconds(100), ("a", 10, false), ("b", 10, false));
        var a = backend.Servers[0];
        var slowStart = backend.Config.SlowStart;

        Assert.Equal(10, a.EffectiveWeight(time.GetTimestamp(), slowStart));
        a.SetHealthy(false);
        a.SetHealthy(true);

        Assert.Equal(1.0, a.EffectiveWeight(time.GetTimestamp(), slowStart), 3);
        time.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal(5.5, a.EffectiveWeight(time.GetTimestamp(), slowStart), 3);
        time.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal(10, a.EffectiveWeight(time.GetTimestamp(), slowStart), 3);
    }

    [Fact]
    public void RoundRobin_DuringSlowStart_ReturningServerGetsSmallShare()
    {
        var time = new FakeTimeProvider();
        var backend = TestBackends.Create(BalanceAlgorithm.RoundRobin, time, TimeSpan.FromSeconds(60), ("a", 10, false), ("b", 10, false));
        backend.Servers[0].SetHealthy(false);
        backend.Servers[0].SetHealthy(true);

        var early = TestBackends.CountPicks(backend, 1_100)["a"];
        time.Advance(TimeSpan.FromSeconds(60));
        var late = TestBackends.CountPicks(backend, 1_000)["a"];

        // At 10% weight a gets 1/11 of the picks; after the ramp, half.
        Assert.InRange(early, 90, 110);
        Assert.Equal(500, late);
    }
}
