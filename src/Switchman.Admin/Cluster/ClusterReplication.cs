using Switchman.Admin.Control;
using Switchman.Cluster;
using Switchman.Cluster.Replication;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Writing;

namespace Switchman.Admin.Cluster;

/// <summary>
/// <see cref="IConfigReplication"/> over the Raft log: builds the command, proposes it here when this node leads or
/// through the leader otherwise, then waits until this node has applied the committed result, so the caller's next
/// read on this node sees it.
/// </summary>
public sealed class ClusterReplication(ClusterNode node, LeaderForwarder forwarder, AppliedProgress progress, TimeProvider time) : IConfigReplication
{
    /// <summary>How long a node waits for its own applier to reach a change the leader committed.</summary>
    private static readonly TimeSpan LocalApplyWait = TimeSpan.FromSeconds(10);

    public async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        await node.CatchUpAsync(cancellationToken).ConfigureAwait(false);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(LocalApplyWait);
        await progress.WaitForAsync(node.State.AppliedIndex, wait.Token).ConfigureAwait(false);
    }

    public (string? State, int? Weight)? OverrideOf(string backend, string server) =>
        node.State.Overrides.TryGetValue(ReplicatedState.ServerKey(backend, server), out var found) ? (found.State, found.Weight) : null;

    public Task<ReplicationResult> ProposeConfigAsync(
        SwitchmanConfig shared, long basedOnRevision, IReadOnlyList<string> resetOverrides, string author, CancellationToken cancellationToken) =>
        ProposeAsync(new ApplyConfigCommand
        {
            ChangeId = ClusterCommand.NewChangeId(),
            Author = author,
            ProposedAt = time.GetUtcNow(),
            Yaml = ConfigWriter.ToYaml(shared),
            ExpectedRevision = basedOnRevision,
            ResetOverrides = resetOverrides,
        }, cancellationToken);

    public Task<ReplicationResult> ProposeServerStateAsync(string backend, string server, ServerAdminState state, string author, CancellationToken cancellationToken) =>
        ProposeAsync(new SetServerStateCommand
        {
            ChangeId = ClusterCommand.NewChangeId(),
            Author = author,
            ProposedAt = time.GetUtcNow(),
            Backend = backend,
            Server = server,
            State = state.ToString().ToLowerInvariant(),
        }, cancellationToken);

    public Task<ReplicationResult> ProposeServerWeightAsync(string backend, string server, int weight, string author, CancellationToken cancellationToken) =>
        ProposeAsync(new SetServerWeightCommand
        {
            ChangeId = ClusterCommand.NewChangeId(),
            Author = author,
            ProposedAt = time.GetUtcNow(),
            Backend = backend,
            Server = server,
            Weight = weight,
        }, cancellationToken);

    private async Task<ReplicationResult> ProposeAsync(ClusterCommand command, CancellationToken cancellationToken)
    {
        var outcome = await forwarder.ProposeAsync(command, cancellationToken).ConfigureAwait(false);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(LocalApplyWait);
        try
        {
            await progress.WaitForAsync(outcome.Index, wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ClusterOutcomeUnknownException(command.ChangeId,
                $"it committed at index {outcome.Index}, but this node had not applied it after {LocalApplyWait.TotalSeconds:0}s (is it cut off from the leader?)");
        }
        return new ReplicationResult(outcome.Accepted, outcome.Revision, outcome.Refusal);
    }
}
