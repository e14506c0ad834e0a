using Switchman.Core.Changes;
using Switchman.Core.Configuration;

namespace Switchman.Admin.Control;

/// <summary>
/// What became of an appended command: its outcome in the log, and, when the log took it but this node cannot run it
/// (a port it cannot bind, a certificate missing here), why. A node alone takes nothing it cannot run: there, errors
/// mean the command was not appended at all.
/// </summary>
public sealed record AppendResult(ChangeOutcome Outcome, IReadOnlyList<ConfigError> NotRunHere)
{
    public bool Accepted => Outcome.Accepted && NotRunHere.Count == 0;
}

/// <summary>
/// The log every change goes through, in one of two sizes: the one-member log of a node alone
/// (<see cref="LocalChangeLog"/>) or the cluster's Raft log (<c>RaftChangeLog</c>). Either way the committed commands
/// fold into one <see cref="SharedState"/> (the reducer) and reach the data plane through one
/// <see cref="ChangeApplier"/>.
/// </summary>
public interface IChangeLog
{
    /// <summary>True for the cluster's log, whose changes other nodes make too.</summary>
    bool IsReplicated { get; }

    /// <summary>The committed state as this node knows it.</summary>
    SharedState State { get; }

    /// <summary>Raised after <see cref="State"/> moved on (a committed entry applied here); handlers must be quick.</summary>
    event Action<SharedState>? StateApplied;

    /// <summary>Waits until this node runs everything committed so far (a read barrier before a change is validated here).</summary>
    Task CatchUpAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Appends <paramref name="command"/> and returns once it is committed and applied on this node (or refused).
    /// The cluster's log throws <see cref="Switchman.Cluster.ClusterNotLeaderException"/> when no leader can take it (nothing
    /// written) and <see cref="Switchman.Cluster.ClusterOutcomeUnknownException"/> when the outcome is unknown.
    /// </summary>
    Task<AppendResult> AppendAsync(ChangeCommand command, CancellationToken cancellationToken);
}
