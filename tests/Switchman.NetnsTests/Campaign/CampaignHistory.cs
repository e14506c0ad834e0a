using System.Globalization;

namespace Switchman.NetnsTests.Campaign;

/// <summary>What a write of the campaign's client was.</summary>
public enum WriteKind
{
    /// <summary>Adds a server named after its sequence number: a change that must be applied once if acknowledged.</summary>
    Add,

    /// <summary>Adds a server with an address that is not one: must be refused (422) and never applied.</summary>
    Invalid,

    /// <summary>Adds a server whose name an acknowledged change already took: must be refused (409), the name kept once.</summary>
    Duplicate,
}

/// <summary>What the answer to a write means (docs/cluster.md, "Writes, and what an answer means").</summary>
public enum WriteOutcome
{
    /// <summary>201 with a revision: committed by a majority and running on the node asked.</summary>
    Acknowledged,

    /// <summary>409 or 422: nothing changed anywhere.</summary>
    Refused,

    /// <summary>503, a timeout or a broken connection: not done, or done without the client knowing.</summary>
    Unknown,

    /// <summary>Any other answer: not in the contract.</summary>
    Unexpected,
}

/// <summary>
/// One write of the campaign's client: change <see cref="Sequence"/> (the name it adds, <see cref="Name"/>), sent
/// through <see cref="Via"/>, the times it was sent and answered on the campaign's clock, and what the answer was.
/// </summary>
public sealed record WriteRecord(
    long Sequence, WriteKind Kind, string Name, string Via, TimeSpan SentAt, TimeSpan AnsweredAt, WriteOutcome Outcome, int? Status, long? Revision, string Detail)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"write #{Sequence} ({Kind} {Name}) via {Via}: sent {SentAt.TotalSeconds:0.000} s, answered {AnsweredAt.TotalSeconds:0.000} s, {Outcome}{(Status is { } s ? $" {s}" : "")}{(Revision is { } r ? $" revision {r}" : "")}{(Detail.Length > 0 ? $" ({Detail})" : "")}");
}

/// <summary>
/// What one node said of itself in one status call: the process that answered (<see cref="Incarnation"/>: its start
/// time, which a restart changes), and its place in the log. <see cref="SentAt"/> and <see cref="ReceivedAt"/> bound
/// the instant it described, on the campaign's clock.
/// </summary>
public sealed record StatusSample(string Node, TimeSpan SentAt, TimeSpan ReceivedAt, string Incarnation, long Revision, long AppliedIndex, long CommitIndex, long Term, string? Leader)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Node} (process started {Incarnation}) at {SentAt.TotalSeconds:0.000}–{ReceivedAt.TotalSeconds:0.000} s: revision {Revision}, applied {AppliedIndex}, commit {CommitIndex}, term {Term}, leader {Leader ?? "none"}");
}

/// <summary>One fault the nemesis injected: its kind, its target(s) and when it began and was healed, on the campaign's clock.</summary>
public sealed record FaultRecord(string Kind, string Target, TimeSpan Began, TimeSpan Healed, string Detail)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Began.TotalSeconds,8:0.000}–{Healed.TotalSeconds,8:0.000} s {Kind} {Target}{(Detail.Length > 0 ? $" ({Detail})" : "")}");
}

/// <summary>One thing the checker found wrong, and why it says so.</summary>
public sealed record Anomaly(string Kind, string Evidence)
{
    public override string ToString() => $"{Kind}: {Evidence}";
}
