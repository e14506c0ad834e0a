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

    /// <summary>What a node that stops reports for every VIP, so that the leader moves them before it goes.</summary>
    public const string Stopping = "node stopping";

    /// <summary>How long a stopping node waits for the leader to take its VIPs before its keeper simply lets go of them.</summary>
    private static readonly TimeSpan HandOffLimit = TimeSpan.FromSeconds(2);

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

    /// <summary>
    /// A clean stop hands the VIPs over rather than dropping them: this node reports that it can serve none, the leader
    /// takes them from it (its keeper removes the addresses and says so on its next ping) and gives them to another node
    /// at once, without waiting for a lease to end. Bounded: past <see cref="HandOffLimit"/> the keeper lets go anyway.
    /// Runs before the VIP assigner stops (registered after it), so a leader that stops hands over its own VIPs too.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        var state = log.State;
        if (state.Config is not { } config || !HoldsAny(state) || membership.ReachableHolders().All(n => n == membership.NodeId))
        {
            // Nothing to hand over, or nobody to hand it to (a node alone): the keeper releases as the node stops.
            return;
        }
        using var limit = new CancellationTokenSource(HandOffLimit, time);
        using var handOff = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        try
        {
            await AppendReportAsync(config.Vips.ToImmutableSortedDictionary(v => v.Name, _ => Stopping, StringComparer.Ordinal), handOff.Token)
                .ConfigureAwait(false);
            while (HoldsAny(log.State) || keeper.Held.Count > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10), time, handOff.Token).ConfigureAwait(false);
            }
            VipReadinessLog.HandedOver(logger);
        }
        catch (Exception e) when (e is not OperationCanceledException || limit.IsCancellationRequested)
        {
            VipReadinessLog.HandOffFailed(logger, e is OperationCanceledException ? $"not done within {HandOffLimit.TotalSeconds:0} s" : e.Message);
        }
    }

    /// <summary>
    /// Why a singleton this VIP carries cannot run here: its instance on this node was left failed (its failures reached
    /// <c>migration_threshold</c>, or <c>on_fail</c> says move or stop). The VIP then moves, and the singleton with it.
    /// </summary>
    private string? SingletonFailedHere(SharedState state, string vip) =>
        state.Config?.Services
            .Where(s => s.Placement == Core.Configuration.ServicePlacement.Singleton && s.WithVip == vip)
            .Select(s => (s.Name, Report: state.InstanceOf(s.Name, membership.NodeId)))
            .Where(s => s.Report?.State == ServiceInstanceState.Failed)
            .Select(s => $"service {s.Name} failed here ({s.Report!.LastFailure ?? s.Report.Problem})")
            .FirstOrDefault();

    /// <summary>Whether <paramref name="state"/> gives this node any VIP.</summary>
    private bool HoldsAny(SharedState state) => state.Vips.Values.Any(a => a.Node == membership.NodeId);

    /// <summary>Reports, through the one change log, that this node cannot serve the VIPs of <paramref name="unready"/> (and can serve the others).</summary>
    private Task<AppendResult> AppendReportAsync(IReadOnlyDictionary<string, string> unready, CancellationToken cancellationToken) =>
        log.AppendAsync(new ReportVipReadinessCommand
        {
            ChangeId = ChangeCommand.NewChangeId(),
            Author = $"node {membership.NodeId}",
            ProposedAt = time.GetUtcNow(),
            Node = membership.NodeId,
            Unready = unready,
        }, cancellationToken);

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
            .Select(v => (v.Name, Why: failures.TryGetValue(v.Name, out var failure) ? failure : VipReadiness.WhyNot(v, dataPlane.Config, status) ?? SingletonFailedHere(state, v.Name)))
            .Where(v => v.Why is not null)
            .ToImmutableSortedDictionary(v => v.Name, v => v.Why!, StringComparer.Ordinal);
        var known = state.StandingOf(membership.NodeId).Unready;
        if (unready.Count == known.Count && unready.All(u => known.TryGetValue(u.Key, out var why) && why == u.Value))
        {
            return;
        }
        try
        {
            await AppendReportAsync(unready, cancellationToken).ConfigureAwait(false);
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

    [LoggerMessage(EventId = 6008, Level = LogLevel.Information, Message = "Stopping: this node's VIPs were handed over")]
    public static partial void HandedOver(ILogger logger);

    [LoggerMessage(EventId = 6009, Level = LogLevel.Warning, Message = "Stopping: handing this node's VIPs over failed ({Problem}); they are released as the node stops")]
    public static partial void HandOffFailed(ILogger logger, string problem);
}
