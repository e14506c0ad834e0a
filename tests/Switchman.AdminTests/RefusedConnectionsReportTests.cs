using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Switchman.Admin;
using Switchman.Testing;

namespace Switchman.AdminTests;

/// <summary>
/// How refused admin connections are told, against a counter of our own under Kestrel's names: the first refusal at
/// once, then a sum a minute while they go on, nothing while they do not, and nothing for another node's listener.
/// </summary>
public sealed class RefusedConnectionsReportTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task The_first_refusal_is_said_at_once_then_a_sum_a_minute_while_they_go_on_and_the_next_flood_is_said_again()
    {
        var (time, logs) = (new FakeTimeProvider(), new FakeLogCollector());
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var otherNode = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var report = new RefusedConnectionsReport(factory, time, new FakeLogger<RefusedConnectionsReport>(logs));
        var rejected = KestrelCounter(factory);
        var othersRejected = KestrelCounter(otherNode.GetRequiredService<IMeterFactory>());
        await report.StartAsync(CancellationToken.None);

        othersRejected.Add(50);
        rejected.Add(1);
        await Await.UntilAsync(() => logs.Count > 0, Limit, "the first refusal to be said");
        Assert.Equal("Admin API: refused 1 connection(s): 1000 are open, the listener's limit; while refusals go on, their number is logged every 60 s",
            Assert.Single(logs.GetSnapshot()).Message);

        // A flood: every refusal after the first is summed, said when the minute ends.
        for (var i = 0; i < 500; i++)
        {
            rejected.Add(1);
        }
        // The report's minute starts once it has said something: advanced until that minute has run out.
        await Await.AdvancingUntilAsync(time, TimeSpan.FromSeconds(10), () => logs.Count > 1, Limit, "the minute's sum");
        Assert.Equal("Admin API: refused 500 more connection(s) in the last 60 s", logs.LatestRecord.Message);

        // A quiet minute ends the flood; quiet minutes say nothing; a later refusal is a new one, said at once.
        for (var i = 0; i < 3; i++)
        {
            time.Advance(RefusedConnectionsReport.SumEvery);
            await Task.Delay(50);
        }
        Assert.Equal(2, logs.Count);
        rejected.Add(1);
        await Await.UntilAsync(() => logs.Count > 2, Limit, "the next flood's first refusal");
        Assert.Equal(3003, logs.LatestRecord.Id.Id);
        await report.StopAsync(CancellationToken.None);
    }

    private static Counter<long> KestrelCounter(IMeterFactory factory) =>
        factory.Create("Microsoft.AspNetCore.Server.Kestrel").CreateCounter<long>("kestrel.rejected_connections");
}
