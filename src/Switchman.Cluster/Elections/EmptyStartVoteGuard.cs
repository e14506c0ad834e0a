using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using Microsoft.Extensions.Logging;
using Switchman.Core.Configuration;

namespace Switchman.Cluster.Elections;

/// <summary>
/// Keeps a node that starts with an empty data directory from voting until voting cannot break Raft's promises.
/// Such a node is either the first start of a brand-new cluster or a member that lost its disk; it cannot tell which
/// from its own disk. A member that lost its disk forgot its vote in the current term (it could vote twice in one term)
/// and the entries it had acknowledged (its vote could elect a candidate that lacks a committed change, and that change
/// would be lost). So the node withholds its vote (<see cref="GatedWriteAheadLog"/>) until either:
/// <list type="bullet">
/// <item>it has caught up with a leader (a read barrier: it holds everything the leader had committed when asked), after
/// which it records its vote in that term for that leader, so it cannot vote for another candidate in the term it
/// rejoined in; or</item>
/// <item>enough of the other members answer that they have never held a log entry: at least half of all the members,
/// not counting itself (both others of three, three others of five). Then no entry was ever committed (a commit needs a
/// majority, and every majority includes one of them), so nothing can be lost. This is how a brand-new cluster starts:
/// its first election waits until enough members have started.</item>
/// </list>
/// "Never held an entry" is asked with a pre-vote for a candidate with an empty log: a member grants it only when its
/// own log is empty too (and it has not heard from a leader within an election timeout). A pre-vote changes nothing on
/// the member that answers. The decision survives a restart: a marker file in the data directory stays until the node
/// votes, so a node restarted halfway through catching up withholds its vote again.
/// </summary>
internal sealed class EmptyStartVoteGuard
{
    private const string MarkerName = "vote-withheld";

    /// <summary>After this long with the vote still withheld, say so loudly once (the first start of a cluster is over by then).</summary>
    private static readonly TimeSpan WarnAfter = TimeSpan.FromSeconds(5);

    /// <summary>How often members are asked again once the first <see cref="WarnAfter"/> is over.</summary>
    private static readonly TimeSpan SlowProbeInterval = TimeSpan.FromSeconds(1);

    private readonly string _marker;
    private readonly ClusterConfig _config;
    private readonly GatedWriteAheadLog _log;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public EmptyStartVoteGuard(ClusterConfig config, GatedWriteAheadLog log, ILogger logger, TimeProvider time)
    {
        _config = config;
        _log = log;
        _logger = logger;
        _time = time;
        _marker = Path.Combine(config.DataDir, MarkerName);
    }

    /// <summary>
    /// Called before a node with an empty membership seeds it from <c>cluster.peers</c>: marks the data directory, so
    /// that the vote stays withheld across restarts until it is safe. A node without peers (a cluster of one) has no
    /// vote to give anyone.
    /// </summary>
    public void MarkEmptyStart()
    {
        if (_config.Peers.Count == 0)
        {
            return;
        }
        using var file = new FileStream(_marker, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1, FileOptions.WriteThrough);
        file.Write("This node started with an empty data directory and withholds its vote until it has caught up with a leader (docs/cluster.md). Removed once it votes.\n"u8);
        file.Flush(flushToDisk: true);
    }

    /// <summary>Withholds the vote if the data directory carries the marker; true if it does.</summary>
    public bool WithholdIfMarked()
    {
        if (!File.Exists(_marker))
        {
            return false;
        }
        _log.WithholdVote();
        return true;
    }

    /// <summary>
    /// Until the vote is released: catches up with the leader when one is known, else asks the other members whether
    /// they are as new as this node. Wakes on every change of the node's view (a leader learnt) and at least every
    /// election timeout. Stops when <paramref name="stopping"/> is cancelled; the vote then stays withheld.
    /// </summary>
    public async Task RunAsync(RaftCluster cluster, Func<Task> viewChanged, Func<RaftClusterMember, string> name, CancellationToken stopping)
    {
        var others = cluster.Members.Count(m => m.IsRemote);
        var required = (others + 1) - ((others + 1) / 2);
        ClusterLogMessages.VoteWithheldAtStart(_logger, _config.NodeId, required, others);
        var started = _time.GetTimestamp();
        var warned = false;
        while (_log.VoteWithheld)
        {
            stopping.ThrowIfCancellationRequested();
            var changed = viewChanged();
            var empty = 0;
            if (cluster.Leader is { } leader)
            {
                if (await TryCatchUpAsync(cluster, leader, name, stopping).ConfigureAwait(false))
                {
                    break;
                }
            }
            else
            {
                empty = await CountEmptyMembersAsync(cluster, stopping).ConfigureAwait(false);
                if (empty >= required)
                {
                    Release();
                    ClusterLogMessages.VoteReleasedNewCluster(_logger, _config.NodeId, empty, others);
                    break;
                }
            }
            var waited = _time.GetElapsedTime(started);
            if (!warned && waited >= WarnAfter && cluster.Leader is null)
            {
                warned = true;
                ClusterLogMessages.VoteStillWithheld(_logger, _config.NodeId, (int)waited.TotalSeconds, empty, others, required);
            }
            await changed.WaitAsync(warned ? SlowProbeInterval : _config.ElectionTimeoutMax, _time, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>A read barrier through <paramref name="leader"/>; once it passed, the vote for that leader in this term is recorded and released.</summary>
    private async Task<bool> TryCatchUpAsync(RaftCluster cluster, RaftClusterMember leader, Func<RaftClusterMember, string> name, CancellationToken stopping)
    {
        if (leader.IsRemote)
        {
            // Time to be sent a snapshot and the log after it; what arrived is kept if it runs out, and the next look
            // asks again from there.
            using var timeout = new CancellationTokenSource(_config.RequestTimeout * 5, _time);
            using var scope = CancellationTokenSource.CreateLinkedTokenSource(stopping, timeout.Token);
            try
            {
                await cluster.ApplyReadBarrierAsync(ReadBarrierType.Weak, scope.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is MemberUnavailableException or QuorumUnreachableException
                || (e is OperationCanceledException && !stopping.IsCancellationRequested))
            {
                // The leader did not answer in time, or is gone: ask again (maybe another one) at the next look.
                return false;
            }
            if (!ReferenceEquals(cluster.Leader, leader))
            {
                return false;
            }
            // This node may have voted in this term before its disk was lost: for someone else, or for this leader. Now
            // it has voted for this leader, which already leads, so it cannot help elect a second leader in this term.
            await _log.RecordVoteAsync(((IClusterMember)leader).Id, stopping).ConfigureAwait(false);
        }
        // Leading itself (only possible when its peers' logs are as empty as its own) needs no catching up.
        Release();
        ClusterLogMessages.VoteReleasedCaughtUp(_logger, _config.NodeId, name(leader), _log.LastCommittedEntryIndex, cluster.Term);
        return true;
    }

    /// <summary>
    /// How many other members have never held a log entry: each is asked for a pre-vote for a candidate with an empty
    /// log (in a term at least theirs). An unreachable member, a refusal or no answer in time counts as not empty.
    /// </summary>
    private async Task<int> CountEmptyMembersAsync(RaftCluster cluster, CancellationToken stopping)
    {
        var term = cluster.Term;
        var answers = await Task.WhenAll(cluster.Members.Where(m => m.IsRemote).Select(m => IsEmptyAsync(m, term, stopping))).ConfigureAwait(false);
        return answers.Count(empty => empty);
    }

    private async Task<bool> IsEmptyAsync(IRaftClusterMember member, long term, CancellationToken stopping)
    {
        // Twice at most: a member whose term is ahead refuses the first ask and says its term.
        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var timeout = new CancellationTokenSource(_config.RequestTimeout, _time);
            using var scope = CancellationTokenSource.CreateLinkedTokenSource(stopping, timeout.Token);
            Result<PreVoteResult> answer;
            try
            {
                answer = await member.PreVoteAsync(term, lastLogIndex: 0, lastLogTerm: 0, scope.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is MemberUnavailableException or ObjectDisposedException
                || (e is OperationCanceledException && !stopping.IsCancellationRequested))
            {
                // Unreachable, removed meanwhile, or no answer in time: not known to be empty.
                return false;
            }
            if (answer.Value == PreVoteResult.Accepted)
            {
                return true;
            }
            if (answer.Term <= term)
            {
                return false;
            }
            term = answer.Term;
        }
        return false;
    }

    /// <summary>Gives the vote back, then removes the marker (a crash in between withholds it once more, which is safe).</summary>
    private void Release()
    {
        _log.ReleaseVote();
        File.Delete(_marker);
    }
}
