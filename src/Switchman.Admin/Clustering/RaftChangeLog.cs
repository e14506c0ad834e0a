using Switchman.Admin.Control;
using Switchman.Cluster;
using Switchman.Core.Changes;
using Switchman.Core.Configuration;

namespace Switchman.Admin.Clustering;

/// <summary>
/// The cluster's Raft log as an <see cref="IChangeLog"/>: appends a command here when this node leads, or through the
/// leader otherwise, then waits until this node's applier has reached it, so the caller's next read on this node sees it.
/// </summary>
public sealed class RaftChangeLog(ClusterNode node, LeaderForwarder forwarder, AppliedProgress progress, ChangeApplier applier, TimeProvider time) : IChangeLog
{
    /// <summary>How long a node waits for its own applier to reach a change the leader committed.</summary>
    private static readonly TimeSpan LocalApplyWait = TimeSpan.FromSeconds(10);

    public bool IsReplicated => true;

    public SharedState State => node.State;

    public event Action<SharedState>? StateApplied
    {
        add => node.StateApplied += value;
        remove => node.StateApplied -= value;
    }

    public async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        await node.CatchUpAsync(cancellationToken).ConfigureAwait(false);
        using var limit = new CancellationTokenSource(LocalApplyWait, time);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        await progress.WaitForAsync(node.State.AppliedIndex, wait.Token).ConfigureAwait(false);
    }

    public async Task<AppendResult> AppendAsync(ChangeCommand command, CancellationToken cancellationToken)
    {
        var outcome = await forwarder.ProposeAsync(command, cancellationToken).ConfigureAwait(false);
        using var limit = new CancellationTokenSource(LocalApplyWait, time);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        try
        {
            await progress.WaitForAsync(outcome.Index, wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ClusterOutcomeUnknownException(command.ChangeId,
                $"it committed at index {outcome.Index}, but this node had not applied it after {LocalApplyWait.TotalSeconds:0}s (is it cut off from the leader?)");
        }
        return outcome.Accepted && applier.Current.Revision < outcome.Revision
            ? new AppendResult(outcome, [new ConfigError("", 0, 0, "",
                $"revision {outcome.Revision} was committed by the cluster but could not be applied on this node; see its events")])
            : new AppendResult(outcome, []);
    }
}
