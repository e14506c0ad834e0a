namespace Switchman.NetnsTests.Campaign;

/// <summary>
/// Judges a fault campaign after the fact, from what the client sent and was answered, what every node runs once
/// healed, and what was sampled on the way. Pure: no clock, no network, so a corrupted history can be fed to it.
/// <list type="bullet">
/// <item><b>Agreement</b>: every node has the same changes of the campaign, in the same order.</item>
/// <item><b>No lost change</b>: every acknowledged change is there, on every node.</item>
/// <item><b>Once</b>: no change appears twice; a refused one never appears; nothing appears that was never sent.</item>
/// <item><b>Real-time order</b>: a change acknowledged before another was sent comes first; an acknowledged revision
/// is never lower than its change's place in the log can be (see <see cref="CheckAcknowledgedRevisions"/>).</item>
/// <item><b>Revisions never go back</b>: within one process of a node (an incarnation: a restart begins a new one)
/// revision, applied index and commit index never decrease; and once a node acknowledged a change at revision r, that
/// same process never reports less than r. A restarted process may begin below what its predecessor reported (it
/// starts over from its disk): counted as <see cref="CampaignVerdict.RestartsBehind"/>, not an anomaly; from its
/// first answer on, the rule above holds for it too.</item>
/// <item><b>Never two holders</b>: the overlaps the address timeline found and the singleton scans confirmed on
/// two hosts, as given.</item>
/// <item>Any answer outside the contract (not 201, 409, 422, 503) is an anomaly too.</item>
/// </list>
/// </summary>
public static class CampaignChecker
{
    /// <param name="writes">Every write the client made.</param>
    /// <param name="finalSequences">Each node's campaign changes (server names) in its configuration's order, once healed and agreed.</param>
    /// <param name="samples">Every status sample.</param>
    /// <param name="holderAnomalies">VIP and singleton overlaps and sampler failures, already described.</param>
    public static CampaignVerdict Check(
        IReadOnlyList<WriteRecord> writes, IReadOnlyDictionary<string, IReadOnlyList<string>> finalSequences, IReadOnlyList<StatusSample> samples,
        IReadOnlyList<Anomaly> holderAnomalies)
    {
        ArgumentNullException.ThrowIfNull(writes);
        ArgumentNullException.ThrowIfNull(finalSequences);
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(holderAnomalies);
        var anomalies = new List<Anomaly>();
        CheckSequences(writes, finalSequences, samples, anomalies);
        var restartsBehind = CheckRevisions(writes, samples, anomalies);
        anomalies.AddRange(writes.Where(w => w.Outcome == WriteOutcome.Unexpected)
            .Select(w => new Anomaly("answer outside the contract", w.ToString())));
        anomalies.AddRange(holderAnomalies);

        var reference = finalSequences.Values.FirstOrDefault() ?? [];
        var present = reference.ToHashSet(StringComparer.Ordinal);
        var unknown = writes.Where(w => w.Outcome == WriteOutcome.Unknown).ToList();
        return new CampaignVerdict(
            writes.Count,
            writes.Count(w => w.Outcome == WriteOutcome.Acknowledged),
            writes.Count(w => w.Outcome == WriteOutcome.Refused),
            unknown.Count,
            unknown.Count(w => w.Kind == WriteKind.Add && present.Contains(w.Name)),
            reference.Count,
            samples.Count,
            restartsBehind,
            anomalies);
    }

    private static void CheckSequences(
        IReadOnlyList<WriteRecord> writes, IReadOnlyDictionary<string, IReadOnlyList<string>> finalSequences, IReadOnlyList<StatusSample> samples, List<Anomaly> anomalies)
    {
        if (finalSequences.Count == 0)
        {
            anomalies.Add(new Anomaly("no final state", "no node's configuration was read after the campaign"));
            return;
        }
        var (firstNode, reference) = finalSequences.OrderBy(s => s.Key, StringComparer.Ordinal).First();
        foreach (var (node, sequence) in finalSequences.Where(s => s.Key != firstNode))
        {
            if (!sequence.SequenceEqual(reference, StringComparer.Ordinal))
            {
                var at = Enumerable.Range(0, Math.Min(sequence.Count, reference.Count)).FirstOrDefault(i => sequence[i] != reference[i], Math.Min(sequence.Count, reference.Count));
                anomalies.Add(new Anomaly("nodes disagree",
                    $"{node} has {sequence.Count} campaign changes, {firstNode} {reference.Count}; first difference at position {at}: " +
                    $"{node} {Around(sequence, at)}, {firstNode} {Around(reference, at)}"));
            }
        }

        var sent = writes.GroupBy(w => w.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        foreach (var (node, sequence) in finalSequences.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var positions = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < sequence.Count; i++)
            {
                if (!positions.TryAdd(sequence[i], i))
                {
                    anomalies.Add(new Anomaly("applied twice", $"{sequence[i]} is at positions {positions[sequence[i]]} and {i} on {node}; {Describe(sent, sequence[i])}"));
                }
                if (!sent.ContainsKey(sequence[i]))
                {
                    anomalies.Add(new Anomaly("never sent", $"{sequence[i]} is at position {i} on {node}, but the client never sent it"));
                }
            }
            foreach (var write in writes)
            {
                var there = positions.ContainsKey(write.Name);
                if (write.Outcome == WriteOutcome.Acknowledged && !there)
                {
                    anomalies.Add(new Anomaly("acknowledged change lost", $"{write} is not on {node}"));
                }
                if (write.Outcome == WriteOutcome.Refused && write.Kind != WriteKind.Duplicate && there)
                {
                    anomalies.Add(new Anomaly("refused change applied", $"{write} is at position {positions[write.Name]} on {node}"));
                }
            }
            CheckRealTimeOrder(writes, positions, node, anomalies);
            CheckAcknowledgedRevisions(writes, samples, sequence, node, anomalies);
        }
    }

    /// <summary>
    /// A change acknowledged before another was sent must come first: for each change present, the latest position
    /// among the changes acknowledged before it was sent must be smaller than its own.
    /// </summary>
    private static void CheckRealTimeOrder(IReadOnlyList<WriteRecord> writes, Dictionary<string, int> positions, string node, List<Anomaly> anomalies)
    {
        var acknowledged = writes
            .Where(w => w.Outcome == WriteOutcome.Acknowledged && w.Kind == WriteKind.Add && positions.ContainsKey(w.Name))
            .OrderBy(w => w.AnsweredAt)
            .ToList();
        var latestBefore = new List<(TimeSpan AnsweredAt, int Position, WriteRecord Write)>();
        foreach (var write in acknowledged)
        {
            var position = positions[write.Name];
            latestBefore.Add(latestBefore.Count > 0 && latestBefore[^1].Position > position ? (write.AnsweredAt, latestBefore[^1].Position, latestBefore[^1].Write) : (write.AnsweredAt, position, write));
        }
        foreach (var write in writes.Where(w => w.Kind == WriteKind.Add && positions.ContainsKey(w.Name)))
        {
            // The last acknowledgement received before this write was sent.
            var index = UpperBound(latestBefore, write.SentAt) - 1;
            if (index >= 0 && latestBefore[index].Position > positions[write.Name])
            {
                var earlier = latestBefore[index].Write;
                anomalies.Add(new Anomaly("real-time order broken",
                    $"on {node} {write.Name} (position {positions[write.Name]}) comes before {earlier.Name} (position {positions[earlier.Name]}), " +
                    $"although {earlier.Name} was acknowledged ({earlier.AnsweredAt.TotalSeconds:0.000} s) before {write.Name} was sent ({write.SentAt.TotalSeconds:0.000} s)"));
            }
        }
    }

    /// <summary>
    /// A 201's revision is the one the node ran when it answered: its change's own log index or a later one, never an
    /// earlier one. What bounds a change's index from below: it was appended after it was sent, so above every revision
    /// known committed by then (acknowledged, or reported by a node); and each campaign change after it in the order
    /// takes one more index at least. So for an acknowledged A and any B at or before it in the order:
    /// revision(A) ≥ committed-before-sent(B) + 1 + (position(A) − position(B)).
    /// </summary>
    private static void CheckAcknowledgedRevisions(
        IReadOnlyList<WriteRecord> writes, IReadOnlyList<StatusSample> samples, IReadOnlyList<string> sequence, string node, List<Anomaly> anomalies)
    {
        var committed = writes.Where(w => w.Outcome == WriteOutcome.Acknowledged && w.Revision is not null).Select(w => (At: w.AnsweredAt, Revision: w.Revision!.Value))
            .Concat(samples.Select(s => (At: s.ReceivedAt, s.Revision)))
            .OrderBy(c => c.At)
            .ToList();
        var knownBy = new List<(TimeSpan At, long Revision)>(committed.Count);
        foreach (var (at, revision) in committed)
        {
            knownBy.Add((at, Math.Max(revision, knownBy.Count > 0 ? knownBy[^1].Revision : 0)));
        }
        long KnownCommittedBefore(TimeSpan time)
        {
            var (low, high) = (0, knownBy.Count);
            while (low < high)
            {
                var middle = (low + high) / 2;
                (low, high) = knownBy[middle].At < time ? (middle + 1, high) : (low, middle);
            }
            return low == 0 ? 0 : knownBy[low - 1].Revision;
        }

        var adds = writes.Where(w => w.Kind == WriteKind.Add).GroupBy(w => w.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        // The largest lower bound so far: max over B at or before this position of committed-before-sent(B) + 1 − position(B).
        var best = long.MinValue;
        (string Name, int Position, long Known) because = default;
        for (var position = 0; position < sequence.Count; position++)
        {
            if (!adds.TryGetValue(sequence[position], out var write))
            {
                continue;
            }
            var known = KnownCommittedBefore(write.SentAt);
            if (known + 1 - position > best)
            {
                best = known + 1 - position;
                because = (write.Name, position, known);
            }
            if (write is { Outcome: WriteOutcome.Acknowledged, Revision: { } revision } && revision < best + position)
            {
                anomalies.Add(new Anomaly("acknowledged revision too low",
                    $"on {node} {write} at position {position}: {because.Name} (position {because.Position}) was sent after revision {because.Known} " +
                    $"was known committed, so {write.Name} has an index of {best + position} at least"));
            }
        }
    }

    /// <summary>The first index whose answer came after <paramref name="time"/>.</summary>
    private static int UpperBound(List<(TimeSpan AnsweredAt, int Position, WriteRecord Write)> list, TimeSpan time)
    {
        var (low, high) = (0, list.Count);
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (list[middle].AnsweredAt < time)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }
        return low;
    }

    /// <returns>How many restarted processes first answered below what their predecessor had reported.</returns>
    private static int CheckRevisions(IReadOnlyList<WriteRecord> writes, IReadOnlyList<StatusSample> samples, List<Anomaly> anomalies)
    {
        var restartsBehind = 0;
        foreach (var node in samples.GroupBy(s => s.Node, StringComparer.Ordinal))
        {
            var ordered = node.OrderBy(s => s.SentAt).ToList();
            StatusSample? previous = null;
            long predecessorMax = 0;
            long incarnationMax = 0;
            foreach (var sample in ordered)
            {
                if (previous is not null && previous.Incarnation == sample.Incarnation)
                {
                    // Only samples that cannot have overlapped in time are compared: the later one was sent after the earlier was answered.
                    if (sample.SentAt >= previous.ReceivedAt)
                    {
                        foreach (var (what, before, after) in new[]
                        {
                            ("revision", previous.Revision, sample.Revision),
                            ("applied index", previous.AppliedIndex, sample.AppliedIndex),
                            ("commit index", previous.CommitIndex, sample.CommitIndex),
                        })
                        {
                            if (after < before)
                            {
                                anomalies.Add(new Anomaly($"{what} went back", $"{previous} then {sample}"));
                            }
                        }
                    }
                }
                else
                {
                    if (previous is not null)
                    {
                        predecessorMax = Math.Max(predecessorMax, incarnationMax);
                        if (sample.Revision < predecessorMax)
                        {
                            restartsBehind++;
                        }
                    }
                    incarnationMax = 0;
                }
                incarnationMax = Math.Max(incarnationMax, sample.Revision);
                previous = sample;
            }
        }

        // A 201 from a node means the change runs there: that process never reports less afterwards.
        foreach (var write in writes.Where(w => w.Outcome == WriteOutcome.Acknowledged && w.Revision is not null))
        {
            var ofVia = samples.Where(s => s.Node == write.Via).ToList();
            var answered = ofVia.Where(s => s.ReceivedAt < write.SentAt).Select(s => s.Incarnation).LastOrDefault();
            if (answered is null)
            {
                continue;
            }
            foreach (var sample in ofVia.Where(s => s.Incarnation == answered && s.SentAt > write.AnsweredAt && s.Revision < write.Revision))
            {
                anomalies.Add(new Anomaly("acknowledged revision not running", $"{write}, yet afterwards {sample}"));
            }
        }
        return restartsBehind;
    }

    private static string Around(IReadOnlyList<string> sequence, int at) =>
        at < sequence.Count ? $"[{string.Join(", ", sequence.Skip(Math.Max(0, at - 1)).Take(3))}]" : "(ends there)";

    private static string Describe(Dictionary<string, List<WriteRecord>> sent, string name) =>
        sent.TryGetValue(name, out var writes) ? string.Join("; ", writes) : "never sent";
}

/// <summary>What the checker found: the counts for the report, and every anomaly with its evidence.</summary>
public sealed record CampaignVerdict(
    int Writes, int Acknowledged, int Refused, int Unknown, int UnknownApplied, int ChangesApplied, int Samples, int RestartsBehind, IReadOnlyList<Anomaly> Anomalies)
{
    public bool Clean => Anomalies.Count == 0;
}
