using System.Diagnostics;

namespace Switchman.NetnsTests.Campaign;

/// <summary>
/// Asks every node, one call at a time each, what it runs (<c>GET /api/v1/status</c>): revision, applied and commit
/// index, term and leader, and which process answered (its start time). A node that does not answer within the call's
/// bound (frozen, powered off, down) is skipped until the next round.
/// </summary>
internal sealed class StatusSampler(NetnsCluster cluster, Stopwatch clock)
{
    public static readonly TimeSpan Every = TimeSpan.FromMilliseconds(500);

    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(2);

    private readonly Lock _gate = new();
    private readonly List<StatusSample> _samples = [];

    public IReadOnlyList<StatusSample> Samples
    {
        get
        {
            lock (_gate)
            {
                return [.. _samples];
            }
        }
    }

    /// <summary>The leader most nodes named in their latest answers, if they agree; null otherwise.</summary>
    public string? Leader
    {
        get
        {
            lock (_gate)
            {
                var latest = _samples.GroupBy(s => s.Node).Select(g => g.Last().Leader).ToList();
                return latest.Where(l => l is not null).GroupBy(l => l).Where(g => g.Count() * 2 > cluster.Nodes.Count).Select(g => g.Key).FirstOrDefault();
            }
        }
    }

    public Task RunAsync(TimeSpan until) => Task.WhenAll(cluster.Nodes.Select(n => SampleAsync(n, until)));

    private async Task SampleAsync(NetnsNode node, TimeSpan until)
    {
        while (clock.Elapsed < until)
        {
            var sentAt = clock.Elapsed;
            if (await cluster.StatusAsync(node, CallTimeout) is { } status)
            {
                var sample = new StatusSample(node.Id, sentAt, clock.Elapsed, status.StartedAt, status.Revision, status.AppliedIndex, status.CommitIndex, status.Term, status.Leader);
                lock (_gate)
                {
                    _samples.Add(sample);
                }
            }
            var left = Every - (clock.Elapsed - sentAt);
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left);
            }
        }
    }
}
