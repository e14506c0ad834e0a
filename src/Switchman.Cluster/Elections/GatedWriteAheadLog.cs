using System.Runtime.CompilerServices;
using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;

namespace Switchman.Cluster.Elections;

/// <summary>
/// DotNext's write-ahead log with a gate on this node's vote: while the vote is withheld, the log answers DotNext's
/// "may I vote for this candidate?" (<see cref="IPersistentState.IsVotedFor"/>) with no, whoever asks and in whatever
/// term, so the node grants no vote. Everything else (appending, committing, standing for election itself) is the log's
/// own behaviour. DotNext's <see cref="IPersistentState"/> cannot be implemented outside DotNext (an internal
/// accessor), so the gate re-implements only that one method on a subclass and calls the log's own (explicit, private)
/// implementation through an <see cref="UnsafeAccessorAttribute"/>: bound at compile time, so it works in a Native AOT
/// build too, where the interface map it was found through before is not supported (no election could be won).
/// </summary>
internal sealed class GatedWriteAheadLog(WriteAheadLog.Options options, IStateMachine stateMachine) : WriteAheadLog(options, stateMachine), IPersistentState
{
    private volatile bool _withheld;

    /// <summary>Whether this node's vote is withheld now (it grants none).</summary>
    public bool VoteWithheld => _withheld;

    public void WithholdVote() => _withheld = true;

    public void ReleaseVote() => _withheld = false;

    /// <summary>Records, durably, that this node voted for <paramref name="member"/> in the current term (no vote for anyone else in it).</summary>
    public ValueTask RecordVoteAsync(ClusterMemberId member, CancellationToken cancellationToken) =>
        ((IPersistentState)this).UpdateVotedForAsync(member, cancellationToken);

    bool IPersistentState.IsVotedFor(in ClusterMemberId id) => !_withheld && LogIsVotedFor(this, in id);

    /// <summary>The log's own <see cref="IPersistentState.IsVotedFor"/>: the vote it holds for the current term. A DotNext
    /// version without it fails the first election with a <see cref="MissingMethodException"/> (the tests hold it).</summary>
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "DotNext.Net.Cluster.Consensus.Raft.IPersistentState.IsVotedFor")]
    private static extern bool LogIsVotedFor(WriteAheadLog log, in ClusterMemberId id);
}
