using DotNext.Net.Cluster.Consensus.Raft;
using Microsoft.Extensions.Logging;
using Switchman.Cluster.Membership;
using Switchman.Core.Configuration;

namespace Switchman.Cluster.Elections;

/// <summary>
/// A witness that leads for a moment when nothing else can. With two load balancers and a witness, a change committed by
/// lb1 and the witness while lb2 was behind leaves the witness with a log newer than lb2's; if lb1 then dies, the
/// witness will not vote for lb2 (Raft's rule: never for a candidate whose log is older) and, in standby, does not stand
/// itself, so no one leads until lb1 returns. When no leader has been known for <see cref="StandInAfter"/> and this
/// witness holds a log, it leaves standby and stands like any voter. Raft's own rules decide whether it may win: a
/// majority grants its vote only to a log at least as up to date as its own, so the witness wins only where its log is
/// what a majority has. Once it leads and everything it holds is committed, the majority that committed it holds it
/// too (so a load balancer in that majority can now be elected), and the witness goes back to standby and stops sending
/// heartbeats; the load balancer is elected with the witness's vote. A stand-in that is not elected, or does not commit,
/// within <see cref="AttemptLimit"/> goes back to standby as well. While it leads the witness does no load balancer's
/// work: no leader duties and no VIP placement run on a witness, and it holds no VIP (<see cref="ClusterNode.VipRightRemaining"/>).
/// </summary>
internal sealed class WitnessStandIn(ClusterConfig config, GatedWriteAheadLog log, ILogger logger, TimeProvider time)
{
    /// <summary>
    /// No leader for this long (ten of the longest election timeouts, 2 s by default) before a witness stands in: far
    /// longer than any election between load balancers that can win one, so a witness does not race them.
    /// </summary>
    public TimeSpan StandInAfter => config.ElectionTimeoutMax * 10;

    /// <summary>How long one stand-in may last, from leaving standby to handing back: time for a few elections and a commit.</summary>
    public TimeSpan AttemptLimit => (config.ElectionTimeoutMax * 10) + config.RequestTimeout;

    /// <summary>Watches for a leaderless cluster until <paramref name="stopping"/> is cancelled; never leaves this node out of standby.</summary>
    public async Task RunAsync(RaftCluster cluster, Func<Task> viewChanged, CancellationToken stopping)
    {
        long? leaderlessSince = null;
        var quiet = false;
        while (true)
        {
            stopping.ThrowIfCancellationRequested();
            var changed = viewChanged();
            if (cluster.Leader is not null || log.VoteWithheld || log.LastEntryIndex == 0)
            {
                // A leader, or nothing this witness could bring: a witness that lost its state, or that never held an entry.
                leaderlessSince = null;
                quiet &= cluster.Leader is null;
            }
            else
            {
                leaderlessSince ??= time.GetTimestamp();
                if (time.GetElapsedTime(leaderlessSince.Value) >= StandInAfter)
                {
                    // After an attempt that did not lead, the next ones (every StandInAfter, while the cluster has no
                    // majority) are logged at debug only, until a leader is seen again.
                    quiet = !await StandInAsync(cluster, viewChanged, quiet, stopping).ConfigureAwait(false);
                    leaderlessSince = time.GetTimestamp();
                    continue;
                }
            }
            var wait = leaderlessSince is { } since ? TimeSpan.FromTicks(Math.Max(0, (StandInAfter - time.GetElapsedTime(since)).Ticks)) : Timeout.InfiniteTimeSpan;
            await changed.WaitAsync(wait, time, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>One stand-in: stand, lead until everything this witness holds is committed, then back to standby. True if it led.</summary>
    private async Task<bool> StandInAsync(RaftCluster cluster, Func<Task> viewChanged, bool quiet, CancellationToken stopping)
    {
        ClusterLogMessages.WitnessStandingIn(logger, quiet ? LogLevel.Debug : LogLevel.Warning, config.NodeId, (long)StandInAfter.TotalMilliseconds, log.LastEntryIndex);
        using var attempt = new CancellationTokenSource(AttemptLimit, time);
        using var scope = CancellationTokenSource.CreateLinkedTokenSource(stopping, attempt.Token);
        var led = false;
        string outcome;
        try
        {
            await cluster.RevertToNormalModeAsync(scope.Token).ConfigureAwait(false);
            while (cluster.Leader is null)
            {
                var changed = viewChanged();
                if (cluster.Leader is not null)
                {
                    break;
                }
                await changed.WaitAsync(scope.Token).ConfigureAwait(false);
            }
            if (cluster.Leader is { IsRemote: true } other)
            {
                outcome = $"{ClusterAddress.Format(other.EndPoint)} was elected";
            }
            else
            {
                // Elected: its first entry of the term is committed once this returns.
                var leadership = await cluster.WaitForLeadershipAsync(scope.Token).ConfigureAwait(false);
                led = true;
                var last = log.LastEntryIndex;
                ClusterLogMessages.WitnessLeadsAsStandIn(logger, config.NodeId, cluster.Term, last);
                using var leading = CancellationTokenSource.CreateLinkedTokenSource(scope.Token, leadership);
                await log.WaitForApplyAsync(last, leading.Token).ConfigureAwait(false);
                outcome = $"everything it held is committed (index {log.LastCommittedEntryIndex}); it hands leadership back";
            }
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            outcome = led
                ? $"it lost the leadership, or did not commit index {log.LastEntryIndex} within {AttemptLimit.TotalMilliseconds:0} ms"
                : $"it was not elected within {AttemptLimit.TotalMilliseconds:0} ms";
        }
        finally
        {
            if (!stopping.IsCancellationRequested)
            {
                await ReturnToStandbyAsync(cluster, stopping).ConfigureAwait(false);
            }
        }
        ClusterLogMessages.WitnessBackInStandby(logger, quiet && !led ? LogLevel.Debug : LogLevel.Information, config.NodeId, outcome);
        return led;
    }

    /// <summary>
    /// Standby from whatever state the stand-in left (candidate, follower or leader): leading ends, and so do heartbeats.
    /// DotNext refuses when the state changes under the call (a candidate elected meanwhile): asked again, a few times.
    /// </summary>
    private async Task ReturnToStandbyAsync(RaftCluster cluster, CancellationToken stopping)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            if (await cluster.EnableStandbyModeAsync(stopping).ConfigureAwait(false) || cluster.Standby)
            {
                return;
            }
            await Task.Delay(config.ElectionTimeoutMin / 4, time, stopping).ConfigureAwait(false);
        }
        throw new InvalidOperationException($"witness {config.NodeId} could not go back to standby after standing in");
    }
}
