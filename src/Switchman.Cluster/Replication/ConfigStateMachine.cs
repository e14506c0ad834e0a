using Switchman.Core.Changes;
using System.Text.Json;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Microsoft.Extensions.Logging;

namespace Switchman.Cluster.Replication;

/// <summary>
/// Folds committed Raft log entries into the <see cref="SharedState"/> (with its one reducer) and snapshots it. Apply is pure and fast (no
/// I/O, no data-plane work): the node's data plane follows <see cref="Current"/> on its own, so a slow or failing
/// local apply never stalls replication. Entries re-applied after a restart give the same state.
/// </summary>
internal sealed class ConfigStateMachine : SimpleStateMachine
{
    private readonly int _snapshotEvery;
    private readonly ILogger _logger;
    private volatile SharedState _current = SharedState.Empty;
    private long _appliedSinceSnapshot;

    public ConfigStateMachine(DirectoryInfo location, int snapshotEvery, ILogger logger)
        : base(location)
    {
        _snapshotEvery = snapshotEvery;
        _logger = logger;
    }

    public SharedState Current => _current;

    /// <summary>Raised after each applied entry (on DotNext's apply loop: handlers must be quick).</summary>
    public event Action<SharedState>? Applied;

    protected override ValueTask<bool> ApplyAsync(LogEntry entry, CancellationToken token)
    {
        var state = _current;
        if (!entry.IsConfiguration && entry.TryGetPayload(out var payload) && payload.Length > 0)
        {
            // Commands are a few KiB: copying one to a contiguous buffer is cheaper than reasoning about segments.
            var command = ChangeCommand.FromBytes(payload.IsSingleSegment ? payload.FirstSpan : System.Buffers.BuffersExtensions.ToArray(payload));
            if (command is null)
            {
                ClusterLogMessages.UnknownEntrySkipped(_logger, entry.Index);
                state = state.Skip(entry.Index);
            }
            else
            {
                state = state.Apply(command, entry.Index);
            }
        }
        else
        {
            state = state.Skip(entry.Index);
        }
        _current = state;
        Applied?.Invoke(state);
        // true: DotNext takes a snapshot now and may drop the log up to here.
        return new(++_appliedSinceSnapshot % _snapshotEvery == 0);
    }

    protected override async ValueTask RestoreAsync(FileInfo snapshotFile, CancellationToken token)
    {
        await using var stream = snapshotFile.OpenRead();
        var restored = await JsonSerializer.DeserializeAsync(stream, ChangeJson.State, token).ConfigureAwait(false)
            ?? throw new InvalidDataException($"snapshot {snapshotFile.FullName} is empty");
        _current = restored;
        ClusterLogMessages.SnapshotRestored(_logger, snapshotFile.Name, restored.AppliedIndex, restored.Revision);
        Applied?.Invoke(restored);
    }

    protected override ValueTask PersistAsync(IAsyncBinaryWriter writer, CancellationToken token) =>
        writer.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(_current, ChangeJson.State), lengthFormat: null, token);
}
