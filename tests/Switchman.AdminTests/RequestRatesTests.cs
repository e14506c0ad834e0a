using Switchman.Admin.Api;
using Switchman.Proxy;

namespace Switchman.AdminTests;

/// <summary>The request rate of each server, differentiated from samples of its request counter.</summary>
public class RequestRatesTests
{
    private const long Frequency = 1000; // timestamps in milliseconds

    private static StatusReport Report(params (string Server, long Total)[] servers) => new(
        true,
        [],
        [new BackendStatus("api", "roundrobin", servers.Length, [.. servers.Select(s => new ServerStatus(s.Server, "127.0.0.1:1", false, "ready", "up", true, 1, 0, s.Total, null, null))])]);

    [Fact]
    public void RateOf_TwoSamples_IsDeltaOverTime()
    {
        var rates = new RequestRates();
        Assert.Equal(0, rates.RateOf("api", "a"));

        rates.Sample(Report(("a", 100)), 0, Frequency);
        Assert.Equal(0, rates.RateOf("api", "a"));
        rates.Sample(Report(("a", 150)), 2_000, Frequency);

        Assert.Equal(25, rates.RateOf("api", "a"));
    }

    [Fact]
    public void RateOf_OlderThanWindow_Forgotten()
    {
        var rates = new RequestRates();
        rates.Sample(Report(("a", 0)), 0, Frequency);
        for (var second = 1; second <= 20; second++)
        {
            // 1000 requests in the first second, then 10 per second.
            rates.Sample(Report(("a", 1000 + ((second - 1) * 10))), second * 1_000, Frequency);
        }

        Assert.Equal(10, rates.RateOf("api", "a"));
    }

    [Fact]
    public void RateOf_CounterWentBackwards_StartsAfresh_GoneServersForgotten()
    {
        var rates = new RequestRates();
        rates.Sample(Report(("a", 500), ("b", 10)), 0, Frequency);
        rates.Sample(Report(("a", 600), ("b", 20)), 1_000, Frequency);

        rates.Sample(Report(("a", 5)), 2_000, Frequency); // a replaced by a reload; b removed

        Assert.Equal(0, rates.RateOf("api", "a"));
        Assert.Equal(0, rates.RateOf("api", "b"));
        rates.Sample(Report(("a", 25)), 3_000, Frequency);
        Assert.Equal(20, rates.RateOf("api", "a"));
    }
}
