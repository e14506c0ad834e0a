using Switchman.Core.Changes;

namespace Switchman.Admin.Control;

/// <summary>
/// The one-member log of a node that runs alone: the same commands and the same reducer as a cluster's log, without
/// the consensus. A command is committed only once this node's data plane runs it, so a change that cannot run here
/// (a port in use) is refused whole and leaves nothing behind, as a reload of HAProxy would. With <c>data_dir</c> the
/// log is on disk (<see cref="LocalLogFile"/>) and what the API changed survives a restart.
/// </summary>
public sealed class LocalChangeLog : IChangeLog
{
    private readonly SemaphoreSlim _appendLock = new(1, 1);
    private readonly ChangeApplier _applier;
    private readonly LocalLogFile? _file;
    private SharedState _state;

    /// <param name="initial">The state at start: the node's file as the first entry, or what <paramref name="file"/> held.</param>
    /// <param name="file">Where entries are kept; null: in memory only.</param>
    public LocalChangeLog(SharedState initial, ChangeApplier applier, LocalLogFile? file = null)
    {
        _state = initial;
        _applier = applier;
        _file = file;
    }

    public bool IsReplicated => false;

    public SharedState State => Volatile.Read(ref _state);

    public event Action<SharedState>? StateApplied;

    public Task CatchUpAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<AppendResult> AppendAsync(ChangeCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        await _appendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = _state;
            if (current.FindChange(command.ChangeId) is { } seen)
            {
                return new AppendResult(seen, []);
            }
            var next = current.Apply(command, current.AppliedIndex + 1);
            var outcome = next.FindChange(command.ChangeId)!;
            if (!outcome.Accepted)
            {
                // Nothing to run: a refused command is not kept.
                return new AppendResult(outcome with { Index = current.AppliedIndex }, []);
            }
            // On disk before it runs: a change that ran is never lost; one that cannot run is taken back.
            var mark = _file?.Append(next.AppliedIndex, command);
            var errors = await _applier.ApplyAsync(next, committed: false, cancellationToken).ConfigureAwait(false);
            if (errors.Count > 0)
            {
                if (mark is { } length)
                {
                    _file!.Truncate(length);
                }
                return new AppendResult(outcome with { Accepted = false, Revision = current.Revision }, errors);
            }
            Volatile.Write(ref _state, next);
            StateApplied?.Invoke(next);
            _file?.SnapshotIfDue(next);
            return new AppendResult(outcome, []);
        }
        finally
        {
            _appendLock.Release();
        }
    }
}
