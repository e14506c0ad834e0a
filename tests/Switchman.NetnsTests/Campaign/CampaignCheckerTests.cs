using Switchman.NetnsTests.Campaign;

namespace Switchman.NetnsTests;

/// <summary>
/// The campaign's checker against histories made by hand: a clean one passes, and each corruption a real bug could
/// cause is found and named. (No lab: these run anywhere.)
/// </summary>
public sealed class CampaignCheckerTests
{
    private static readonly string[] Nodes = ["n1", "n2", "n3"];

    /// <summary>Five changes acknowledged one after the other (revisions 10, 11…), one refused, one unknown that was applied, one unknown that was not.</summary>
    private static List<WriteRecord> CleanWrites() =>
    [
        Ack(1, "n1", 1.0, 1.1, 10),
        Ack(2, "n2", 1.2, 1.3, 11),
        new(3, WriteKind.Invalid, "x000003", "n3", S(1.4), S(1.5), WriteOutcome.Refused, 422, null, ""),
        Ack(4, "n3", 1.6, 1.7, 12),
        new(5, WriteKind.Add, "c000005", "n1", S(1.8), S(6.8), WriteOutcome.Unknown, null, null, "timeout"),
        Ack(6, "n2", 1.9, 2.0, 14),
        new(7, WriteKind.Add, "c000007", "n3", S(2.1), S(2.2), WriteOutcome.Unknown, 503, null, "no leader"),
        new(8, WriteKind.Duplicate, "c000001", "n1", S(2.3), S(2.4), WriteOutcome.Refused, 409, null, ""),
        Ack(9, "n1", 2.5, 2.6, 15),
    ];

    /// <summary>c000005 (unknown) was applied between 4 and 6; c000007 (unknown) was not.</summary>
    private static readonly string[] CleanSequence = ["c000001", "c000002", "c000004", "c000005", "c000006", "c000009"];

    private static List<StatusSample> CleanSamples() =>
    [
        .. Nodes.SelectMany(n => new[]
        {
            new StatusSample(n, S(0.5), S(0.6), "t0", 9, 9, 9, 2, "n1"),
            new StatusSample(n, S(1.5), S(1.6), "t0", 11, 11, 11, 2, "n1"),
            new StatusSample(n, S(3.0), S(3.1), "t0", 15, 15, 15, 2, "n1"),
        }),
    ];

    [Fact]
    public void Check_CleanHistory_NoAnomalyAndTheCounts()
    {
        var verdict = Check(CleanWrites(), Same(CleanSequence), CleanSamples());

        Assert.True(verdict.Clean, string.Join("\n", verdict.Anomalies));
        Assert.Equal((9, 5, 2, 2, 1, 6), (verdict.Writes, verdict.Acknowledged, verdict.Refused, verdict.Unknown, verdict.UnknownApplied, verdict.ChangesApplied));
    }

    [Fact]
    public void Check_AcknowledgedChangeMissingOnOneNode_Lost()
    {
        var sequences = Same(CleanSequence);
        sequences["n3"] = [.. CleanSequence.Where(n => n != "c000004")];

        var verdict = Check(CleanWrites(), sequences, CleanSamples());

        Assert.Contains(verdict.Anomalies, a => a.Kind == "acknowledged change lost" && a.Evidence.Contains("c000004", StringComparison.Ordinal) && a.Evidence.Contains("n3", StringComparison.Ordinal));
        Assert.Contains(verdict.Anomalies, a => a.Kind == "nodes disagree");
    }

    [Fact]
    public void Check_TwoNodesInAnotherOrder_Disagree()
    {
        var sequences = Same(CleanSequence);
        sequences["n2"] = ["c000001", "c000002", "c000005", "c000004", "c000006", "c000009"];

        var verdict = Check(CleanWrites(), sequences, CleanSamples());

        var disagreement = Assert.Single(verdict.Anomalies, a => a.Kind == "nodes disagree");
        Assert.Contains("position 2", disagreement.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_UnknownChangeAppliedTwice_AppliedTwice()
    {
        var verdict = Check(CleanWrites(), Same([.. CleanSequence, "c000005"]), CleanSamples());

        Assert.Contains(verdict.Anomalies, a => a.Kind == "applied twice" && a.Evidence.Contains("c000005", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_RefusedChangePresent_RefusedApplied()
    {
        var verdict = Check(CleanWrites(), Same([.. CleanSequence, "x000003"]), CleanSamples());

        Assert.Contains(verdict.Anomalies, a => a.Kind == "refused change applied" && a.Evidence.Contains("x000003", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_ChangeNobodySent_NeverSent()
    {
        var verdict = Check(CleanWrites(), Same([.. CleanSequence, "c999999"]), CleanSamples());

        Assert.Contains(verdict.Anomalies, a => a.Kind == "never sent" && a.Evidence.Contains("c999999", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_ChangeAcknowledgedBeforeAnotherWasSentComesAfterIt_RealTimeOrderBroken()
    {
        // c000002 was acknowledged at 1.3 s, c000004 sent at 1.6 s: c000004 cannot come first. (Revisions swapped too, so
        // that only the order is at fault in the first anomaly.)
        var writes = CleanWrites();
        writes[1] = Ack(2, "n2", 1.2, 1.3, 12);
        writes[3] = Ack(4, "n3", 1.6, 1.7, 11);

        var verdict = Check(writes, Same(["c000001", "c000004", "c000002", "c000005", "c000006", "c000009"]), CleanSamples());

        Assert.Contains(verdict.Anomalies, a => a.Kind == "real-time order broken" && a.Evidence.Contains("c000004 (position 1) comes before c000002", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_AcknowledgedRevisionsNotInOrder_FineWhenEachAnswerCameLater()
    {
        // A 201 carries the revision the node runs when it answers, which may include changes after its own: c000002,
        // answered late, at 13 (c000004 and c000005 applied there by then), c000004 at 12. Nothing wrong.
        var writes = CleanWrites();
        writes[1] = Ack(2, "n2", 1.2, 1.95, 13);

        var verdict = Check(writes, Same(CleanSequence), CleanSamples());

        Assert.True(verdict.Clean, string.Join("\n", verdict.Anomalies));
    }

    [Fact]
    public void Check_AcknowledgedRevisionBelowWhatItsChangeCanHave_TooLow()
    {
        // Revision 9 was known committed (a node said so at 0.6 s) before c000001 was sent (1.0 s): its index is 10 at
        // least, and four changes come after it up to c000006, whose index is then 14 at least: it cannot run at 13.
        var writes = CleanWrites();
        writes[5] = Ack(6, "n2", 1.9, 2.0, 13);

        var verdict = Check(writes, Same(CleanSequence), CleanSamples());

        var tooLow = verdict.Anomalies.Where(a => a.Kind == "acknowledged revision too low").ToList();
        Assert.Equal(3, tooLow.Count); // once on each node
        Assert.All(tooLow, a => Assert.Contains("c000001 (position 0) was sent after revision 9 was known committed, so c000006 has an index of 14 at least", a.Evidence, StringComparison.Ordinal));
    }

    [Fact]
    public void Check_RevisionLowerLaterInOneProcess_WentBack()
    {
        var samples = CleanSamples();
        samples.Add(new StatusSample("n2", S(4.0), S(4.1), "t0", 14, 15, 15, 2, "n1"));

        var verdict = Check(CleanWrites(), Same(CleanSequence), samples);

        var back = Assert.Single(verdict.Anomalies);
        Assert.Equal("revision went back", back.Kind);
    }

    [Fact]
    public void Check_RestartedProcessBeginsBehindThenCatchesUp_NotAnAnomalyButCounted()
    {
        var samples = CleanSamples();
        samples.Add(new StatusSample("n2", S(4.0), S(4.1), "t1", 12, 12, 12, 3, null));
        samples.Add(new StatusSample("n2", S(4.5), S(4.6), "t1", 15, 15, 15, 3, "n1"));

        var verdict = Check(CleanWrites(), Same(CleanSequence), samples);

        Assert.True(verdict.Clean, string.Join("\n", verdict.Anomalies));
        Assert.Equal(1, verdict.RestartsBehind);
    }

    [Fact]
    public void Check_NodeThatAcknowledgedRevisionReportsLessAfterwards_NotRunning()
    {
        // n1 answered c000009 at revision 15 (2.6 s), and its same process says 14 at 3.0 s.
        var samples = CleanSamples();
        samples.RemoveAll(s => s.Node == "n1" && s.SentAt == S(3.0));
        samples.Add(new StatusSample("n1", S(3.0), S(3.1), "t0", 14, 14, 14, 2, "n1"));

        var verdict = Check(CleanWrites(), Same(CleanSequence), samples);

        Assert.Contains(verdict.Anomalies, a => a.Kind == "acknowledged revision not running" && a.Evidence.Contains("c000009", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_AnswerOutsideTheContractAndHolderOverlaps_AreAnomalies()
    {
        var writes = CleanWrites();
        writes.Add(new WriteRecord(10, WriteKind.Add, "c000010", "n2", S(3.0), S(3.1), WriteOutcome.Unexpected, 500, null, "boom"));

        var verdict = CampaignChecker.Check(writes, Same(CleanSequence), CleanSamples(), [new Anomaly("VIP on two nodes", "192.0.2.200 on n1 and n2")]);

        Assert.Equal(["answer outside the contract", "VIP on two nodes"], verdict.Anomalies.Select(a => a.Kind));
    }

    private static CampaignVerdict Check(List<WriteRecord> writes, Dictionary<string, IReadOnlyList<string>> sequences, List<StatusSample> samples) =>
        CampaignChecker.Check(writes, sequences, samples, []);

    private static Dictionary<string, IReadOnlyList<string>> Same(string[] sequence) => Nodes.ToDictionary(n => n, _ => (IReadOnlyList<string>)sequence);

    private static WriteRecord Ack(long sequence, string via, double sent, double answered, long revision) =>
        new(sequence, WriteKind.Add, $"c{sequence:D6}", via, S(sent), S(answered), WriteOutcome.Acknowledged, 201, revision, "");

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);
}
