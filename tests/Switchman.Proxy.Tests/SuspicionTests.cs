using Microsoft.Extensions.Time.Testing;
using Switchman.Core.Configuration;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Tests;

public class SuspicionTests
{
    [Fact]
    public void Pick_SuspectServer_GetsNoNewRequestsWhileAnotherIsAvailable()
    {
        var backend = TestBackends.Weighted(BalanceAlgorithm.RoundRobin, ("a", 1), ("b", 1), ("c", 1));
        backend.Servers[1].Suspicion.Suspect(SuspicionCause.Silent, "test");

        var counts = TestBackends.CountPicks(backend, 60);

        Assert.Equal(0, counts["b"]);
        Assert.Equal(30, counts["a"]);
    }

    [Fact]
    public void Pick_EveryServerSuspect_StillPicksThem()
    {
        var backend = TestBackends.Weighted(BalanceAlgorithm.LeastConn, ("a", 1), ("b", 1));
        foreach (var server in backend.Servers)
        {
            server.Suspicion.Suspect(SuspicionCause.Refused, "test");
        }

        var counts = TestBackends.CountPicks(backend, 10);

        Assert.Equal(10, counts["a"] + counts["b"]);
    }

    [Fact]
    public void Pick_SuspectPrimary_BackupTakesOver_TheSuspectOnlyWhenNothingElseIsLeft()
    {
        var backend = TestBackends.Create(BalanceAlgorithm.RoundRobin, null, null, ("a", 1, false), ("spare", 1, true));
        var spare = backend.Servers[1];
        backend.Servers[0].Suspicion.Suspect(SuspicionCause.Silent, "test");

        Assert.Equal("spare", backend.Pick(default, null, [])!.Name);
        // A retry after the backup failed (say, with a 503) tries the backup again rather than the suspect.
        Assert.Equal("spare", backend.Pick(default, null, [spare])!.Name);
        spare.AdminState = ServerAdminState.Maint;
        Assert.Equal("a", backend.Pick(default, null, [spare])!.Name);
    }

    [Fact]
    public void Pick_StickyServerSuspect_GoesToAnother()
    {
        var backend = TestBackends.Weighted(BalanceAlgorithm.RoundRobin, ("a", 1), ("b", 1));
        backend.Servers[1].Suspicion.Suspect(SuspicionCause.Silent, "test");

        Assert.Equal("a", backend.Pick(default, "b", [])!.Name);
    }

    [Fact]
    public void Suspicion_PassingHealthCheck_ClearsIt_AndCountsAsSignOfLife()
    {
        var time = new FakeTimeProvider();
        var server = new ServerRuntime("api", new ServerConfig { Name = "a", Address = "127.0.0.1:1" }, initiallyHealthy: true, time);
        server.Suspicion.Suspect(SuspicionCause.Silent, "test");
        var before = time.GetTimestamp();

        server.RecordCheck(new HealthCheckResult(false, "HTTP 503", time.GetUtcNow(), TimeSpan.Zero));
        Assert.True(server.Suspicion.IsSuspect);
        server.RecordCheck(new HealthCheckResult(true, "HTTP 200", time.GetUtcNow(), TimeSpan.Zero));

        Assert.False(server.Suspicion.IsSuspect);
        Assert.True(server.LastSignOfLifeTimestamp >= before);
    }

    [Fact]
    public void Suspect_Silent_TellsWaitingRequests_AndRenewsTheToken_Refused_DoesNot()
    {
        var suspicion = new ServerSuspicion(new FakeTimeProvider());
        var first = suspicion.SilenceToken;

        suspicion.Suspect(SuspicionCause.Refused, "connection refused");
        Assert.False(first.IsCancellationRequested);
        suspicion.Suspect(SuspicionCause.Silent, "no answer");

        Assert.True(first.IsCancellationRequested);
        Assert.False(suspicion.SilenceToken.IsCancellationRequested);
    }

    [Fact]
    public void Observer_ToldOncePerChange_WithCauseAndDetail()
    {
        var time = new FakeTimeProvider();
        var suspicion = new ServerSuspicion(time);
        var seen = new List<(SuspicionCause? Cause, string Detail)>();
        suspicion.Observer = (cause, detail) => seen.Add((cause, detail));

        suspicion.Suspect(SuspicionCause.Silent, "no answer within 50 ms");
        time.Advance(TimeSpan.FromSeconds(3));
        suspicion.Suspect(SuspicionCause.Silent, "again");
        Assert.Equal(time.GetUtcNow() - TimeSpan.FromSeconds(3), suspicion.Since);
        suspicion.Clear("connected in 0.3 ms");
        suspicion.Clear("connected again");

        Assert.Equal([(SuspicionCause.Silent, "no answer within 50 ms"), (null, "connected in 0.3 ms")], seen);
        Assert.Null(suspicion.Since);
    }
}
