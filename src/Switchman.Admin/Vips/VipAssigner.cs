using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Switchman.Admin.Control;
using Switchman.Core.Changes;
using Switchman.Core.Configuration;
using Switchman.Core.Vips;

namespace Switchman.Admin.Vips;

/// <summary>
/// The leader's VIP duty (a node alone always leads): places each VIP with <see cref="VipPlacement.Plan"/> over the
/// members that may hold one (reachable voters, not in standby, able to serve that VIP) and writes each decision as an
/// <c>assign_vip</c> command carrying its term. A VIP moves from a holder that answers in two commits: taken from it
/// (its lease renewals stop), then given to the next one only once it surely let go (it reported the release, or its
/// lease has ended; see <see cref="IVipMembership.SurelyReleased"/>). From a holder that is lost, it moves in one
/// commit once that holder's lease has surely ended. A holder that is merely unhealthy keeps its VIP when no other node
/// can serve it either. Looks every 10 ms while leading and a VIP is configured (a look reads memory only); writes only when
/// something changes.
/// </summary>
public sealed class VipAssigner(IChangeLog log, IVipMembership membership, TimeProvider time, ILogger<VipAssigner> logger) : BackgroundService
{
    private const string NodeLost = "node lost";

    private static readonly TimeSpan LookEvery = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// How long a new leader waits, at most, for every member to be known before it places a VIP for the first time:
    /// a pool placed while one node is still starting would pile onto the others and, with <c>preempt: false</c>,
    /// stay there. A VIP that had a holder is never held back by this.
    /// </summary>
    private static readonly TimeSpan FirstPlacementGrace = TimeSpan.FromSeconds(3);

    private string? _lastProblem;

    /// <summary>When this leader first saw each VIP released and not yet given on (monotonic), to time a graceful release.</summary>
    private readonly Dictionary<string, long> _releasedAt = new(StringComparer.Ordinal);
    private long _leadingSince;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var leadership = await membership.WaitForLeadershipAsync(stoppingToken).ConfigureAwait(false);
                _leadingSince = time.GetTimestamp();
                using var leading = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, leadership);
                try
                {
                    // Committed in its term and applied here, this leader's state has every assignment earlier leaders made:
                    // a member is granted once it has applied as much (what an earlier leader revoked is known nowhere else).
                    await log.CatchUpAsync(leading.Token).ConfigureAwait(false);
                    membership.StartGranting(membership.Term, log.State.AppliedIndex);
                    while (!leading.IsCancellationRequested)
                    {
                        if (!HasVips(log.State))
                        {
                            await WaitForVipsAsync(leading.Token).ConfigureAwait(false);
                        }
                        await StepAsync(leading.Token).ConfigureAwait(false);
                        await Task.Delay(LookEvery, time, leading.Token).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (leading.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
                {
                    // Leadership ended in the middle of a look: wait to lead again.
                }
                catch (Cluster.ClusterNotLeaderException) when (!stoppingToken.IsCancellationRequested)
                {
                    // It stopped leading before it had caught up: nothing granted; wait to lead again.
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static bool HasVips(SharedState state) => state.Config is { Vips.Count: > 0 };

    /// <summary>
    /// Without a VIP there is nothing to look at: waits for a configuration that has one rather than looking 100 times a
    /// second (which kept an idle node's thread pool waking up and spinning: 4–5% of a core).
    /// </summary>
    private async Task WaitForVipsAsync(CancellationToken leading)
    {
        var configured = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnApplied(SharedState state)
        {
            if (HasVips(state))
            {
                configured.TrySetResult();
            }
        }
        log.StateApplied += OnApplied;
        try
        {
            // Looked at again once subscribed: a configuration applied in between is not missed.
            if (!HasVips(log.State))
            {
                await configured.Task.WaitAsync(leading).ConfigureAwait(false);
            }
        }
        finally
        {
            log.StateApplied -= OnApplied;
        }
    }

    /// <summary>One look: at most one command per VIP, each appended and applied before the next look.</summary>
    private async Task StepAsync(CancellationToken leading)
    {
        var state = log.State;
        if (state.Config is not { Vips.Count: > 0 } config)
        {
            return;
        }
        var term = membership.Term;
        var holders = membership.ReachableHolders().Where(n => !state.StandingOf(n).Standby).ToList();
        var current = config.Vips.ToDictionary(v => v.Name, v => state.Vips.GetValueOrDefault(v.Name)?.Node, StringComparer.Ordinal);
        var plan = VipPlacement.Plan(config.Vips, holders, current, (node, vip) => state.StandingOf(node).WhyNot(vip) is null);
        foreach (var vip in config.Vips)
        {
            var assignment = state.Vips.GetValueOrDefault(vip.Name);
            var wanted = plan.GetValueOrDefault(vip.Name);
            var carried = Carried(config, vip.Name);
            var extra = carried.Count > 0 ? SingletonFence.Grace : TimeSpan.Zero;
            if (assignment?.Node is { } holder)
            {
                _releasedAt.Remove(vip.Name);
                if (assignment.PreviousNode is { } from && from != holder)
                {
                    // Taken from that node, maybe by an earlier leader whose revocation died with it: no lease for it until
                    // it has applied the move, or it would act on the stale state it restarts with (and hold it twice).
                    membership.Revoke(from, assignment.Index);
                }
                if (wanted != holder && WhyTake(state, holder, vip.Name, wanted, extra) is { } reason)
                {
                    if (reason == NodeLost && wanted is not null)
                    {
                        await MoveFromLostAsync(vip.Name, holder, wanted, term, extra, leading).ConfigureAwait(false);
                        continue;
                    }
                    var outcome = await AssignAsync(vip.Name, null, term, reason, null, leading).ConfigureAwait(false);
                    if (outcome is { Accepted: true } && carried.Count == 0)
                    {
                        membership.Revoke(holder, outcome.Index);
                    }
                }
                continue;
            }
            if (assignment?.PreviousNode is { } previous)
            {
                // Released (maybe by an earlier leader): no renewals for the old holder until it reports the release. A
                // holder that stops the singletons this VIP carries keeps its lease while they stop (within their stop
                // timeouts), so that they stop gracefully rather than being fenced.
                if (!_releasedAt.TryGetValue(vip.Name, out var releasedAt))
                {
                    _releasedAt[vip.Name] = releasedAt = time.GetTimestamp();
                }
                if (carried.Count == 0 || time.GetElapsedTime(releasedAt) >= SingletonFence.ReleaseWait(carried.Max(s => s.StopTimeout)))
                {
                    membership.Revoke(previous, assignment.Index);
                }
                if (!membership.SurelyReleased(previous, assignment.Index, extra))
                {
                    continue;
                }
            }
            if (wanted is not null && (assignment is not null || membership.MembershipSettled() || time.GetElapsedTime(_leadingSince) >= FirstPlacementGrace))
            {
                await AssignAsync(vip.Name, wanted, term, assignment?.Reason ?? "placed", null, leading).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Gives a lost holder's VIP straight to <paramref name="next"/>, in one commit instead of two: no renewal for the
    /// holder from before the last check that its lease ended until it reports the move applied, so the check still
    /// holds when the command commits.
    /// </summary>
    private async Task MoveFromLostAsync(string vip, string holder, string next, long term, TimeSpan extra, CancellationToken leading)
    {
        membership.Suspend(holder);
        try
        {
            if (!membership.LeaseSurelyEnded(holder, extra))
            {
                return; // it was granted again just before the suspension: it answers after all
            }
            var outcome = await AssignAsync(vip, next, term, NodeLost, holder, leading).ConfigureAwait(false);
            if (outcome is { Accepted: true })
            {
                membership.Revoke(holder, outcome.Index);
            }
        }
        finally
        {
            membership.Resume(holder);
        }
    }

    /// <summary>Why <paramref name="holder"/> loses <paramref name="vip"/>; null when it keeps it (unhealthy, but nobody else can serve it).</summary>
    private string? WhyTake(SharedState state, string holder, string vip, string? wanted, TimeSpan extra)
    {
        var standing = state.StandingOf(holder);
        if (!membership.IsReachable(holder))
        {
            // Not before its lease has surely ended: it could not be given away sooner anyway, and a holder that missed
            // a ping or two (a busy moment) keeps its VIP instead of moving it for nothing.
            return membership.LeaseSurelyEnded(holder, extra) ? NodeLost : null;
        }
        if (standing.Standby)
        {
            return "standby";
        }
        if (standing.WhyNot(vip) is { } unhealthy)
        {
            return wanted is null ? null : unhealthy == VipReadinessReporter.Stopping ? unhealthy : $"unhealthy: {unhealthy}";
        }
        return wanted is null ? "no longer a holder" : "preempted";
    }

    /// <summary>The singleton services that run where <paramref name="vip"/> is.</summary>
    private static List<ServiceConfig> Carried(SwitchmanConfig config, string vip) =>
        [.. config.Services.Where(s => s.Placement == ServicePlacement.Singleton && s.WithVip == vip)];

    private async Task<ChangeOutcome?> AssignAsync(string vip, string? node, long term, string reason, string? releasedFrom, CancellationToken leading)
    {
        var command = new AssignVipCommand
        {
            ChangeId = ChangeCommand.NewChangeId(),
            Author = $"leader ({membership.NodeId})",
            ProposedAt = time.GetUtcNow(),
            Vip = vip,
            Node = node,
            Term = term,
            Reason = reason,
            ReleasedFrom = releasedFrom,
        };
        try
        {
            var result = await log.AppendAsync(command, leading).ConfigureAwait(false);
            if (result.Outcome.Accepted)
            {
                VipAssignerLog.Assigned(logger, vip, node ?? "nobody", reason, term);
                _lastProblem = null;
            }
            else
            {
                Problem(vip, result.Outcome.Refusal ?? "refused");
            }
            return result.Outcome;
        }
        catch (Exception e) when (e is not OperationCanceledException || !leading.IsCancellationRequested)
        {
            Problem(vip, e.Message);
            return null;
        }
    }

    /// <summary>Logged once per distinct problem, not at every look.</summary>
    private void Problem(string vip, string problem)
    {
        if (problem != _lastProblem)
        {
            _lastProblem = problem;
            VipAssignerLog.AssignFailed(logger, vip, problem);
        }
    }
}

internal static partial class VipAssignerLog
{
    [LoggerMessage(EventId = 6004, Level = LogLevel.Information, Message = "VIP {Vip} assigned to {Node}: {Reason} (term {Term})")]
    public static partial void Assigned(ILogger logger, string vip, string node, string reason, long term);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Warning, Message = "Assigning VIP {Vip} failed: {Problem}; trying again")]
    public static partial void AssignFailed(ILogger logger, string vip, string problem);
}
