using System.Net.Sockets;
using Switchman.Proxy.Forwarding;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Tests;

public class BackendConnectorTests
{
    private static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Connect_AnsweredInTime_ReturnsTheConnection_AndLearnsTheRoundTrip()
    {
        using var kit = new ConnectorTestKit("a", "b");
        kit.Dialer.Set(ConnectorTestKit.Port(0), FakeAnswer.Answer, TimeSpan.FromMicroseconds(400));

        await using var stream = await kit.ConnectAsync(0);

        var a = kit[0];
        Assert.Equal(TimeSpan.FromMicroseconds(400), a.ConnectTimes.Smoothed);
        Assert.False(a.Suspicion.IsSuspect);
        Assert.NotEqual(long.MinValue, a.LastSignOfLifeTimestamp);
    }

    [Fact]
    public async Task Connect_NoAnswerWithinDeadline_AnotherServerUp_RequestMovesOn_ServerSuspectUntilTheConnectCompletes()
    {
        using var kit = new ConnectorTestKit("a", "b");
        await kit.LearnAllAsync();
        var b = kit[1];
        kit.Dialer.Set(ConnectorTestKit.Port(1), FakeAnswer.Silent);

        var connect = kit.ConnectAsync(1);
        kit.Time.Advance(TimeSpan.FromMilliseconds(49));
        Assert.False(connect.IsCompleted);
        kit.Time.Advance(TimeSpan.FromMilliseconds(1));

        var error = await Assert.ThrowsAsync<ConnectDeadlineExceededException>(() => connect.WaitAsync(WaitTimeout));
        Assert.Contains("within 50 ms", error.Message, StringComparison.Ordinal);
        Assert.True(b.Suspicion.IsSuspect);
        Assert.Equal("a", kit.Backend.Pick(default, null, [])!.Name);
        // The connect itself goes on in the background, and a late answer brings the server back.
        var late = kit.Dialer.To(ConnectorTestKit.Port(1))[^1];
        Assert.True(late.IsPending);
        late.Answer(TimeSpan.FromMicroseconds(500));
        await ConnectorTestKit.WaitUntilAsync(() => !b.Suspicion.IsSuspect, "b to be cleared by its late connect");
    }

    [Fact]
    public async Task Connect_NoAnswer_NoOtherServer_WaitsForTimeoutsConnect()
    {
        using var kit = new ConnectorTestKit("a");
        await kit.LearnAllAsync();
        kit.Dialer.Set(ConnectorTestKit.Port(0), FakeAnswer.Silent);

        var connect = kit.ConnectAsync(0);
        kit.Time.Advance(TimeSpan.FromMilliseconds(50));
        await ConnectorTestKit.WaitUntilAsync(() => kit[0].Suspicion.IsSuspect, "a to be suspect");
        Assert.False(connect.IsCompleted);
        kit.Time.Advance(TimeSpan.FromMilliseconds(1950));

        var error = await Assert.ThrowsAsync<ConnectDeadlineExceededException>(() => connect.WaitAsync(WaitTimeout));
        Assert.Contains("timeouts.connect (2000 ms)", error.Message, StringComparison.Ordinal);
        Assert.True(kit.Dialer.To(ConnectorTestKit.Port(0))[^1].WasCancelled);
    }

    [Fact]
    public async Task Connect_LastAttempt_WaitsPastTheDeadline_AndUsesTheLateConnection()
    {
        using var kit = new ConnectorTestKit("a", "b");
        await kit.LearnAllAsync();
        kit.Dialer.Set(ConnectorTestKit.Port(1), FakeAnswer.Silent);

        var connect = kit.ConnectAsync(1, lastAttempt: true);
        kit.Time.Advance(TimeSpan.FromMilliseconds(500));
        await ConnectorTestKit.WaitUntilAsync(() => kit[1].Suspicion.IsSuspect, "b to be suspect");
        Assert.False(connect.IsCompleted);
        kit.Dialer.To(ConnectorTestKit.Port(1))[^1].Answer(TimeSpan.FromMicroseconds(300));

        await using var stream = await connect.WaitAsync(WaitTimeout);
        Assert.False(kit[1].Suspicion.IsSuspect);
    }

    [Fact]
    public async Task Connect_Refused_ServerSuspect_ProbedEverySecondUntilItAnswers()
    {
        using var kit = new ConnectorTestKit("a", "b");
        var b = kit[1];
        var port = ConnectorTestKit.Port(1);
        kit.Dialer.Set(port, FakeAnswer.Refuse);

        var error = await Assert.ThrowsAsync<SocketException>(() => kit.ConnectAsync(1));
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
        Assert.True(b.Suspicion.IsSuspect);

        kit.Time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Single(kit.Dialer.To(port));
        await kit.AdvanceUntilAsync(() => kit.Dialer.To(port).Count == 3, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(3), "two probes");
        Assert.True(b.Suspicion.IsSuspect);
        kit.Dialer.Set(port, FakeAnswer.Answer);
        await kit.AdvanceUntilAsync(() => !b.Suspicion.IsSuspect, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2), "a probe that is answered");
        await ConnectorTestKit.WaitUntilAsync(() => kit.Connector.RunningProbes == 0, "the probe loop to end");
    }

    [Fact]
    public async Task Connect_DistantServer_IsNotSuspected()
    {
        using var kit = new ConnectorTestKit("a", "b");
        var port = ConnectorTestKit.Port(0);
        kit.Dialer.Set(port, FakeAnswer.Silent);

        for (var i = 0; i < 5; i++)
        {
            // Every connect takes 300 ms, jitter included: far above a LAN, well within what its own connects show.
            var connect = kit.ConnectAsync(0);
            kit.Time.Advance(TimeSpan.FromMilliseconds(300 + (i % 2 * 40)));
            kit.Dialer.To(port)[^1].Answer(TimeSpan.FromMilliseconds(300 + (i % 2 * 40)));
            await using var stream = await connect.WaitAsync(WaitTimeout);
            Assert.False(kit[0].Suspicion.IsSuspect);
        }

        Assert.InRange(kit.Connector.DeadlineFor(kit[0]).TotalMilliseconds, 900, 2000);
    }

    [Fact]
    public async Task Connect_ServerNoLongerConfigured_PlainConnectUpToTheCeiling()
    {
        using var kit = new ConnectorTestKit("a");

        await using var stream = await kit.Connector.ConnectAsync(new("127.0.0.1", 9), null, CancellationToken.None);

        Assert.Single(kit.Dialer.Connects);
        Assert.False(kit[0].ConnectTimes.HasSamples);
    }

    [Fact]
    public async Task CheckLiveness_NoAnswer_ServerFallsSilent_UntilTheCheckConnectCompletes()
    {
        using var kit = new ConnectorTestKit("a", "b");
        await kit.LearnAllAsync();
        var b = kit[1];
        var silence = b.Suspicion.SilenceToken;
        kit.Dialer.Set(ConnectorTestKit.Port(1), FakeAnswer.Silent);

        kit.Backend.CheckLiveness(b);
        kit.Backend.CheckLiveness(b); // one check at a time per server
        kit.Time.Advance(TimeSpan.FromMilliseconds(50));

        await ConnectorTestKit.WaitUntilAsync(() => silence.IsCancellationRequested, "b to fall silent");
        Assert.True(b.Suspicion.IsSuspect);
        var check = Assert.Single(kit.Dialer.To(ConnectorTestKit.Port(1)).Skip(1));
        check.Answer(TimeSpan.FromMicroseconds(300));
        await ConnectorTestKit.WaitUntilAsync(() => !b.Suspicion.IsSuspect, "b to be cleared by the check's connect");
    }

    [Fact]
    public async Task CheckLiveness_Answered_ServerShowsLife_AndIsNotSuspect()
    {
        using var kit = new ConnectorTestKit("a", "b");
        var b = kit[1];
        var before = kit.Time.GetTimestamp();

        kit.Backend.CheckLiveness(b);

        await ConnectorTestKit.WaitUntilAsync(() => b.LastSignOfLifeTimestamp >= before, "b's sign of life");
        Assert.False(b.Suspicion.IsSuspect);
        Assert.Single(kit.Dialer.Connects);
    }

    [Fact]
    public async Task Dispose_StopsTheProbes()
    {
        var kit = new ConnectorTestKit("a", "b");
        kit.Dialer.Set(ConnectorTestKit.Port(1), FakeAnswer.Refuse);
        await Assert.ThrowsAsync<SocketException>(() => kit.ConnectAsync(1));
        Assert.Equal(1, kit.Connector.RunningProbes);

        kit.Dispose();

        await ConnectorTestKit.WaitUntilAsync(() => kit.Connector.RunningProbes == 0, "the probe loop to stop");
    }
}
