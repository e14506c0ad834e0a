using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Tests;

public class ConnectTimeEstimatorTests
{
    private static readonly TimeSpan Ceiling = TimeSpan.FromSeconds(2);

    [Fact]
    public void Deadline_NoSample_IsTcpsInitialTimeout_OrThePriorGiven()
    {
        var estimator = new ConnectTimeEstimator();

        Assert.False(estimator.HasSamples);
        Assert.Equal(TimeSpan.FromSeconds(1), estimator.Deadline(Ceiling));
        Assert.Equal(TimeSpan.FromMilliseconds(300), estimator.Deadline(Ceiling, prior: TimeSpan.FromMilliseconds(300)));
        Assert.Equal(ConnectTimeEstimator.Floor, estimator.Deadline(Ceiling, prior: TimeSpan.FromMilliseconds(1)));
    }

    [Fact]
    public void Deadline_LanServer_IsTheFloor()
    {
        var estimator = new ConnectTimeEstimator();

        for (var i = 0; i < 10; i++)
        {
            estimator.Record(TimeSpan.FromMicroseconds(300 + (i * 20)));
        }

        Assert.Equal(TimeSpan.FromMilliseconds(50), estimator.Deadline(Ceiling));
    }

    [Fact]
    public void Deadline_DistantServer_IsAboutThreeRoundTripsPlusTheirVariation()
    {
        var estimator = new ConnectTimeEstimator();

        foreach (var ms in new[] { 80, 85, 78, 82, 80, 79, 81, 80, 84, 80, 80, 80, 80, 80, 80, 80 })
        {
            estimator.Record(TimeSpan.FromMilliseconds(ms));
        }

        // 3 × ~80 ms, plus 4 × a variation that has mostly decayed.
        Assert.InRange(estimator.Deadline(Ceiling).TotalMilliseconds, 240, 270);
        Assert.InRange(estimator.Smoothed!.Value.TotalMilliseconds, 79, 82);
    }

    [Fact]
    public void Deadline_NeverAboveTheCeiling()
    {
        var estimator = new ConnectTimeEstimator();
        estimator.Record(TimeSpan.FromMilliseconds(900));

        Assert.Equal(TimeSpan.FromMilliseconds(100), estimator.Deadline(TimeSpan.FromMilliseconds(100)));
        Assert.Equal(Ceiling, estimator.Deadline(Ceiling));
    }

    [Fact]
    public void Record_OneConnectWhoseSynWasLost_MovesTheDeadlineBoundedly_AndItSettlesBack()
    {
        var estimator = new ConnectTimeEstimator();
        for (var i = 0; i < 10; i++)
        {
            estimator.Record(TimeSpan.FromMicroseconds(300));
        }

        // The first SYN went unanswered; TCP sent it again after a second.
        estimator.Record(TimeSpan.FromSeconds(1.0003));

        // Counted as twice the deadline in force (100 ms), not as a second: the deadline grows to ~140 ms, not ~5 s.
        var after = estimator.Deadline(Ceiling);
        Assert.InRange(after.TotalMilliseconds, 100, 150);
        for (var i = 0; i < 10; i++)
        {
            estimator.Record(TimeSpan.FromMicroseconds(300));
        }
        Assert.Equal(ConnectTimeEstimator.Floor, estimator.Deadline(Ceiling));
    }

    [Fact]
    public void Record_ServerMovedFarAway_DeadlineCatchesUpWithinAFewConnects()
    {
        var estimator = new ConnectTimeEstimator();
        for (var i = 0; i < 10; i++)
        {
            estimator.Record(TimeSpan.FromMicroseconds(300));
        }

        var connects = 0;
        while (estimator.Deadline(Ceiling) < TimeSpan.FromMilliseconds(400) && connects < 20)
        {
            estimator.Record(TimeSpan.FromMilliseconds(400));
            connects++;
        }

        Assert.InRange(connects, 1, 6);
    }

    [Fact]
    public void Record_NegativeDuration_IsIgnored()
    {
        var estimator = new ConnectTimeEstimator();

        estimator.Record(TimeSpan.FromMilliseconds(-1));

        Assert.False(estimator.HasSamples);
    }
}
