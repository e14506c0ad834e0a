using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Switchman.Admin.Control;
using Switchman.Cluster;
using Switchman.Core.Changes;
using Switchman.Core.Configuration;

namespace Switchman.Admin.Clustering;

/// <summary>
/// The work only the leader does, each time under the leadership token, which is cancelled the moment this node stops
/// leading or loses the majority. Today: a brand-new cluster's first configuration, taken from the first leader's file.
/// </summary>
public sealed class LeaderDuties(ClusterNode node, ConfigStore store, TimeProvider time, ILogger<LeaderDuties> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (node.Role == ClusterRole.Witness)
        {
            return;
        }
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var leadership = await node.WaitForLeadershipAsync(stoppingToken).ConfigureAwait(false);
                using var term = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, leadership);
                LeaderDutyLog.Leading(logger, node.NodeId, node.Term);
                await SeedConfigurationAsync(term.Token).ConfigureAwait(false);
                await Task.Delay(Timeout.InfiniteTimeSpan, time, term.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                LeaderDutyLog.NoLongerLeading(logger, node.NodeId);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Revision 0 means no configuration was ever committed: propose this node's file (expected revision 0, so at most one seed wins).</summary>
    private async Task SeedConfigurationAsync(CancellationToken leadership)
    {
        if (node.State.Revision != 0)
        {
            return;
        }
        var seed = new ApplyConfigCommand
        {
            ChangeId = $"seed-{node.NodeId}-{node.Term}",
            Author = $"bootstrap ({node.NodeId})",
            ProposedAt = time.GetUtcNow(),
            Config = NodeLocalSections.Strip(store.Current.Config),
            ExpectedRevision = 0,
        };
        try
        {
            var outcome = await node.ProposeAsync(seed, leadership).ConfigureAwait(false);
            LeaderDutyLog.Seeded(logger, outcome.Revision, outcome.Accepted);
        }
        catch (Exception e) when (e is ClusterNotLeaderException or ClusterOutcomeUnknownException or OperationCanceledException)
        {
            LeaderDutyLog.SeedFailed(logger, e.Message);
        }
    }
}

internal static partial class LeaderDutyLog
{
    [LoggerMessage(EventId = 2111, Level = LogLevel.Information, Message = "Node {NodeId} leads in term {Term}: leader duties start")]
    public static partial void Leading(ILogger logger, string nodeId, long term);

    [LoggerMessage(EventId = 2112, Level = LogLevel.Information, Message = "Node {NodeId} no longer leads: leader duties stopped")]
    public static partial void NoLongerLeading(ILogger logger, string nodeId);

    [LoggerMessage(EventId = 2113, Level = LogLevel.Information, Message = "First cluster configuration proposed from this node's file: revision {Revision} (accepted: {Accepted})")]
    public static partial void Seeded(ILogger logger, long revision, bool accepted);

    [LoggerMessage(EventId = 2114, Level = LogLevel.Warning, Message = "Proposing the first cluster configuration failed: {Reason}")]
    public static partial void SeedFailed(ILogger logger, string reason);
}
