using Switchman.Proxy.Forwarding;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Tests;

public class SilenceWatchTests
{
    private static readonly TimeSpan LateAfter = TimeSpan.FromMilliseconds(50);

    [Fact]
    public void ServerFallsSilent_AnotherServerUp_AttemptIsAbandoned()
    {
        using var kit = new ConnectorTestKit("a", "b");
        var watch = SilenceWatch.Rent();

        var token = watch.Begin(kit.Backend, kit[1], LateAfter, kit.Time);
        kit[1].Suspicion.Suspect(SuspicionCause.Silent, "test");

        Assert.True(token.IsCancellationRequested);
        Assert.False(watch.ResponseArrived());
        Assert.True(watch.End());
        SilenceWatch.Return(watch);
    }

    [Fact]
    public void ResponseArrivedFirst_AttemptRunsToItsEnd()
    {
        using var kit = new ConnectorTestKit("a", "b");
        var watch = SilenceWatch.Rent();

        var token = watch.Begin(kit.Backend, kit[1], LateAfter, kit.Time);
        Assert.True(watch.ResponseArrived());
        kit[1].Suspicion.Suspect(SuspicionCause.Silent, "test");

        Assert.False(token.IsCancellationRequested);
        Assert.False(watch.End());
        SilenceWatch.Return(watch);
    }

    [Fact]
    public void ServerRefuses_AttemptsAlreadySentAreLeftAlone()
    {
        // A server that refuses new connections may be shutting down gracefully, finishing what it has.
        using var kit = new ConnectorTestKit("a", "b");
        var watch = SilenceWatch.Rent();

        var token = watch.Begin(kit.Backend, kit[1], LateAfter, kit.Time);
        kit[1].Suspicion.Suspect(SuspicionCause.Refused, "connection refused");

        Assert.False(token.IsCancellationRequested);
        Assert.False(watch.End());
        SilenceWatch.Return(watch);
    }

    [Fact]
    public void ServerFallsSilent_NoOtherServer_AttemptKeepsWaiting()
    {
        using var kit = new ConnectorTestKit("a", "b");
        kit[0].Suspicion.Suspect(SuspicionCause.Silent, "test");
        var watch = SilenceWatch.Rent();

        var token = watch.Begin(kit.Backend, kit[1], LateAfter, kit.Time);
        kit[1].Suspicion.Suspect(SuspicionCause.Silent, "test");

        Assert.False(token.IsCancellationRequested);
        Assert.False(watch.End());
        SilenceWatch.Return(watch);
    }

    [Fact]
    public async Task Late_NoSignOfLifeSinceTheAttemptBegan_ChecksTheServer()
    {
        using var kit = new ConnectorTestKit("a", "b");
        await kit.LearnAllAsync();
        kit.Time.Advance(TimeSpan.FromMilliseconds(1));
        var port = ConnectorTestKit.Port(1);
        var watch = SilenceWatch.Rent();

        watch.Begin(kit.Backend, kit[1], LateAfter, kit.Time);
        kit.Time.Advance(TimeSpan.FromMilliseconds(49));
        Assert.Single(kit.Dialer.To(port));
        kit.Time.Advance(TimeSpan.FromMilliseconds(1));

        await ConnectorTestKit.WaitUntilAsync(() => kit.Dialer.To(port).Count == 2, "the liveness check's connect");
        watch.End();
        SilenceWatch.Return(watch);
    }

    [Fact]
    public async Task Late_ServerAnsweredSinceTheAttemptBegan_NoCheck()
    {
        using var kit = new ConnectorTestKit("a", "b");
        await kit.LearnAllAsync();
        kit.Time.Advance(TimeSpan.FromMilliseconds(1));
        var watch = SilenceWatch.Rent();

        watch.Begin(kit.Backend, kit[1], LateAfter, kit.Time);
        kit.Time.Advance(TimeSpan.FromMilliseconds(10));
        kit[1].RecordSignOfLife();
        kit.Time.Advance(TimeSpan.FromMilliseconds(100));

        // The timer fires synchronously while fake time advances: had it checked, the connect would be there now.
        Assert.Single(kit.Dialer.To(ConnectorTestKit.Port(1)));
        watch.End();
        SilenceWatch.Return(watch);
    }
}
