using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;

namespace Switchman.Cluster.Elections;

/// <summary>
/// DotNext's write-ahead log with a gate on this node's vote: while the vote is withheld, the log answers DotNext's
/// "may I vote for this candidate?" (<see cref="IPersistentState.IsVotedFor"/>) with no, whoever asks and in whatever
/// term, so the node grants no vote. Everything else (appending, committing, standing for election itself) is the log's
/// own behaviour. DotNext's <see cref="IPersistentState"/> cannot be implemented outside DotNext (an internal
/// accessor), so the gate re-implements only that one method on a subclass and calls the log's own implementation
/// through the interface map.
/// </summary>
internal sealed class GatedWriteAheadLog(WriteAheadLog.Options options, IStateMachine stateMachine) : WriteAheadLog(options, stateMachine), IPersistentState
{
    private delegate bool IsVotedForMethod(WriteAheadLog log, in ClusterMemberId id);

    /// <summary>The log's own <see cref="IPersistentState.IsVotedFor"/>: the vote it holds for the current term.</summary>
    private static readonly IsVotedForMethod LogIsVotedFor = FindIsVotedFor();

    private volatile bool _withheld;

    /// <summary>Whether this node's vote is withheld now (it grants none).</summary>
    public bool VoteWithheld => _withheld;

    public void WithholdVote() => _withheld = true;

    public void ReleaseVote() => _withheld = false;

    /// <summary>Records, durably, that this node voted for <paramref name="member"/> in the current term (no vote for anyone else in it).</summary>
    public ValueTask RecordVoteAsync(ClusterMemberId member, CancellationToken cancellationToken) =>
        ((IPersistentState)this).UpdateVotedForAsync(member, cancellationToken);

    bool IPersistentState.IsVotedFor(in ClusterMemberId id) => !_withheld && LogIsVotedFor(this, in id);

    private static IsVotedForMethod FindIsVotedFor()
    {
        var map = typeof(WriteAheadLog).GetInterfaceMap(typeof(IPersistentState));
        var index = Array.FindIndex(map.InterfaceMethods, m => m.Name == nameof(IPersistentState.IsVotedFor) && m.GetParameters().Length == 1);
        return index >= 0
            ? map.TargetMethods[index].CreateDelegate<IsVotedForMethod>()
            : throw new InvalidOperationException($"{typeof(WriteAheadLog).FullName} has no {nameof(IPersistentState.IsVotedFor)}: the DotNext version does not match");
    }
}
