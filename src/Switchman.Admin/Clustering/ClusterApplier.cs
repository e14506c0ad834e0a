using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Switchman.Admin.Control;
using Switchman.Cluster;

namespace Switchman.Admin.Clustering;

/// <summary>
/// Makes this node run what the cluster committed: follows the replicated state and hands each new one to the node's
/// one <see cref="ChangeApplier"/>. Coalesces: after a burst of commits it applies only the latest state.
/// </summary>
public sealed class ClusterApplier : BackgroundService
{
    private readonly ClusterNode _node;
    private readonly ChangeApplier _applier;
    private readonly AppliedProgress _progress;
    private readonly Channel<bool> _changed = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public ClusterApplier(ClusterNode node, ChangeApplier applier, AppliedProgress progress)
    {
        _node = node;
        _applier = applier;
        _progress = progress;
        node.StateApplied += _ => _changed.Writer.TryWrite(true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _changed.Writer.TryWrite(true);
        try
        {
            while (await _changed.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                _changed.Reader.TryRead(out _);
                var state = _node.State;
                // A revision this node cannot run is reported by the applier (config_apply_failed); the node moves on.
                await _applier.ApplyAsync(state, committed: true, stoppingToken).ConfigureAwait(false);
                _progress.Advance(state.AppliedIndex);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
