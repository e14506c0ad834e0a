using System.Diagnostics;
using System.Net;

namespace Switchman.NetnsTests.Campaign;

/// <summary>
/// The campaign's client: a few writers, each sending one change at a time through a node picked at random, and
/// recording what it sent and what it was answered. Change <i>n</i> adds a server named <c>c</c> + <i>n</i> (six
/// digits) to backend api: the configuration lists its servers in the order their changes were applied, so each
/// node's whole sequence can be read back. One in twenty sends an address that is not one (must be refused: 422), one
/// in twenty a name an acknowledged change already took (must be refused: 409). A change is never sent twice: a write
/// with an unknown outcome is left as it is, for the checker to find applied once or not at all.
/// </summary>
internal sealed class CampaignClient(NetnsCluster cluster, Stopwatch clock, int seed)
{
    /// <summary>How long one write may take before its outcome is unknown: a frozen or powered-off node never answers.</summary>
    public static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(5);

    private readonly Lock _gate = new();
    private readonly List<WriteRecord> _writes = [];
    private readonly List<string> _acknowledged = [];
    private long _sequence;

    public IReadOnlyList<WriteRecord> Writes
    {
        get
        {
            lock (_gate)
            {
                return [.. _writes];
            }
        }
    }

    /// <summary>Runs <paramref name="writers"/> writers until <paramref name="until"/> on the campaign's clock.</summary>
    public Task RunAsync(int writers, TimeSpan until) =>
        Task.WhenAll(Enumerable.Range(0, writers).Select(i => WriteAsync(new Random(unchecked((seed * 7919) + 101 + i)), until)));

    private async Task WriteAsync(Random random, TimeSpan until)
    {
        while (clock.Elapsed < until)
        {
            var via = cluster.Nodes[random.Next(cluster.Nodes.Count)];
            var sequence = Interlocked.Increment(ref _sequence);
            var roll = random.NextDouble();
            string? taken;
            lock (_gate)
            {
                taken = _acknowledged.Count > 0 ? _acknowledged[random.Next(_acknowledged.Count)] : null;
            }
            var (kind, name, address) = roll switch
            {
                < 0.05 => (WriteKind.Invalid, $"x{sequence:D6}", "not-an-address"),
                < 0.10 when taken is not null => (WriteKind.Duplicate, taken, cluster.BackendAddress),
                _ => (WriteKind.Add, $"c{sequence:D6}", cluster.BackendAddress),
            };
            var sentAt = clock.Elapsed;
            WriteRecord record;
            try
            {
                var (status, revision, body) = await cluster.AddServerAsync(via, name, address, WriteTimeout);
                record = Classify(sequence, kind, name, via.Id, sentAt, clock.Elapsed, status, revision, body);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
            {
                record = new WriteRecord(sequence, kind, name, via.Id, sentAt, clock.Elapsed, WriteOutcome.Unknown, null, null, e is OperationCanceledException ? "no answer in time" : e.Message);
            }
            lock (_gate)
            {
                _writes.Add(record);
                if (record is { Outcome: WriteOutcome.Acknowledged, Kind: WriteKind.Add })
                {
                    _acknowledged.Add(name);
                }
            }
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(50, 300)));
        }
    }

    private static WriteRecord Classify(long sequence, WriteKind kind, string name, string via, TimeSpan sentAt, TimeSpan answeredAt, HttpStatusCode status, long? revision, string body)
    {
        var code = (int)status;
        var outcome = (code, kind) switch
        {
            (201, WriteKind.Add) => WriteOutcome.Acknowledged,
            // An invalid address or a taken name accepted: not what the API promises.
            (201, _) => WriteOutcome.Unexpected,
            (409 or 422, _) => WriteOutcome.Refused,
            (503, _) => WriteOutcome.Unknown,
            _ => WriteOutcome.Unexpected,
        };
        var detail = outcome == WriteOutcome.Acknowledged ? "" : body.Length <= 200 ? body : body[..200] + "…";
        return new WriteRecord(sequence, kind, name, via, sentAt, answeredAt, outcome, code, revision, detail);
    }
}
