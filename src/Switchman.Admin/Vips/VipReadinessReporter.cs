using System.Collections.Immutable;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Switchman.Admin.Control;
using Switchman.Core.Changes;
using Switchman.Proxy;

namespace Switchman.Admin.Vips;

/// <summary>
/// Tells the cluster which VIPs this node cannot serve now and why (<see cref="VipReadiness"/>, and addresses its keeper
/// could not add), as a <c>report_vip_readiness</c> command through the one change log, whenever that differs from
/// what the shared state says of this node. Looks four times a second; a report that fails (no leader now) is made
/// again at the next look. Server health already has its own rise/fall, so no further damping here.
/// </summary>
public sealed class VipReadinessReporter(
    IChangeLog log, DataPlane dataPlane, VipKeeper keeper, IVipMembership membership, TimeProvider time, ILogger<VipReadinessReporter> logger) : BackgroundService
{
    private static readonly TimeSpan LookEvery = TimeSpan.FromMilliseconds(250);

    private string? _lastProblem;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await dataPlane.FirstHealthRound.WaitAsync(stoppingToken).ConfigureAwait(false);
            while (!stoppingToken.IsCancellationRequested)
            {
                await ReportAsync(stoppingToken).ConfigureAwait(false);
                await Task.Delay(LookEvery, time, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ReportAsync(CancellationToken cancellationToken)
    {
        var state = log.State;
        if (state.Config is not { } config)
        {
            return;
        }
        var status = dataPlane.GetStatus();
        var failures = keeper.Failures;
        var unready = config.Vips
            .Select(v => (v.Name, Why: failures.TryGetValue(v.Name, out var failure) ? failure : VipReadiness.WhyNot(v, dataPlane.Config, status)))
            .Where(v => v.Why is not null)
            .ToImmutableSortedDictionary(v => v.Name, v => v.Why!, StringComparer.Ordinal);
        var known = state.StandingOf(membership.NodeId).Unready;
        if (unready.Count == known.Count && unready.All(u => known.TryGetValue(u.Key, out var why) && why == u.Value))
        {
            return;
        }
        var command = new ReportVipReadinessCommand
        {
            ChangeId = ChangeCommand.NewChangeId(),
            Author = $"node {membership.NodeId}",
            ProposedAt = time.GetUtcNow(),
            Node = membership.NodeId,
            Unready = unready,
        };
        try
        {
            await log.AppendAsync(command, cancellationToken).ConfigureAwait(false);
            VipReadinessLog.Reported(logger, unready.Count == 0 ? "every VIP" : "all but " + string.Join("; ", unready.Select(u => $"{u.Key} ({u.Value})")));
            _lastProblem = null;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (e.Message != _lastProblem)
            {
                _lastProblem = e.Message;
                VipReadinessLog.ReportFailed(logger, e.Message);
            }
        }
    }
}

internal static partial class VipReadinessLog
{
    [LoggerMessage(EventId = 6006, Level = LogLevel.Information, Message = "This node can serve {Vips}")]
    public static partial void Reported(ILogger logger, string vips);

    [LoggerMessage(EventId = 6007, Level = LogLevel.Warning, Message = "Reporting which VIPs this node can serve failed: {Problem}; trying again")]
    public static partial void ReportFailed(ILogger logger, string problem);
}
