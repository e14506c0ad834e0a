using System.Text.Json;
using Microsoft.Extensions.Logging;
using Switchman.Core.Changes;

namespace Switchman.Admin.Control;

/// <summary>
/// The one-member log of a node alone, on disk (<c>data_dir</c>): <c>changes.log</c>, one JSON line per command
/// (<c>{"index":N,"command":{…}}</c>), each flushed to disk before its change runs, and <c>state.json</c>, a snapshot
/// of the <see cref="SharedState"/> written every <see cref="SnapshotEvery"/> entries (written aside, then renamed),
/// after which the log starts afresh. At start the snapshot and the entries after it are replayed through the same
/// reducer. A last line cut short by a crash is the one change that never ran: it is dropped, with a warning.
/// </summary>
public sealed class LocalLogFile : IDisposable
{
    public const int SnapshotEvery = 1000;
    private const string LogName = "changes.log";
    private const string SnapshotName = "state.json";

    private readonly string _directory;
    private readonly ILogger _logger;
    private FileStream _log;
    private int _entriesSinceSnapshot;

    private LocalLogFile(string directory, FileStream log, int entries, SharedState recovered, ILogger logger)
    {
        _directory = directory;
        _log = log;
        _entriesSinceSnapshot = entries;
        Recovered = recovered;
        _logger = logger;
    }

    /// <summary>The state the snapshot and the log add up to; <see cref="SharedState.Empty"/> for a new directory.</summary>
    public SharedState Recovered { get; }

    /// <summary>Opens (creating it if needed) the log in <paramref name="directory"/> and replays it.</summary>
    /// <exception cref="InvalidDataException">The snapshot or a complete log line cannot be read.</exception>
    public static LocalLogFile Open(string directory, ILogger logger)
    {
        Directory.CreateDirectory(directory);
        var snapshotPath = Path.Combine(directory, SnapshotName);
        var state = File.Exists(snapshotPath)
            ? JsonSerializer.Deserialize(File.ReadAllBytes(snapshotPath), ChangeJson.State)
                ?? throw new InvalidDataException($"{snapshotPath} is empty")
            : SharedState.Empty;
        var log = new FileStream(Path.Combine(directory, LogName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        var (replayed, entries, validLength) = Replay(log, state, logger);
        if (validLength < log.Length)
        {
            log.SetLength(validLength);
        }
        log.Seek(0, SeekOrigin.End);
        return new LocalLogFile(directory, log, entries, replayed, logger);
    }

    /// <summary>Appends an entry and flushes it to disk; returns where the log ended before it, for <see cref="Truncate"/>.</summary>
    public long Append(long index, ChangeCommand command)
    {
        var start = _log.Position;
        var line = JsonSerializer.SerializeToUtf8Bytes(new ChangeLogEntry(index, command), ChangeJson.LogEntry);
        _log.Write(line);
        _log.WriteByte((byte)'\n');
        _log.Flush(flushToDisk: true);
        _entriesSinceSnapshot++;
        return start;
    }

    /// <summary>Takes back the entries from <paramref name="length"/> on (a change that could not run).</summary>
    public void Truncate(long length)
    {
        _log.SetLength(length);
        _log.Flush(flushToDisk: true);
        _entriesSinceSnapshot--;
    }

    /// <summary>After an entry ran: every <see cref="SnapshotEvery"/> entries, writes <paramref name="state"/> and empties the log.</summary>
    public void SnapshotIfDue(SharedState state)
    {
        if (_entriesSinceSnapshot < SnapshotEvery)
        {
            return;
        }
        var snapshotPath = Path.Combine(_directory, SnapshotName);
        var temporary = snapshotPath + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            file.Write(JsonSerializer.SerializeToUtf8Bytes(state, ChangeJson.State));
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, snapshotPath, overwrite: true);
        _log.SetLength(0);
        _log.Flush(flushToDisk: true);
        _entriesSinceSnapshot = 0;
        LocalLogLog.SnapshotWritten(_logger, snapshotPath, state.AppliedIndex);
    }

    public void Dispose() => _log.Dispose();

    private static (SharedState State, int Entries, long ValidLength) Replay(FileStream log, SharedState state, ILogger logger)
    {
        var bytes = new byte[log.Length];
        log.Seek(0, SeekOrigin.Begin);
        log.ReadExactly(bytes);
        var entries = 0;
        var offset = 0;
        while (offset < bytes.Length)
        {
            var end = Array.IndexOf(bytes, (byte)'\n', offset);
            if (end < 0)
            {
                // No newline after it: the write of this entry never finished, so its change never ran.
                LocalLogLog.TornEntryDropped(logger, log.Name, entries + 1);
                break;
            }
            ChangeLogEntry? entry;
            try
            {
                entry = JsonSerializer.Deserialize(bytes.AsSpan(offset, end - offset), ChangeJson.LogEntry);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{log.Name}: entry {entries + 1} cannot be read: {e.Message}", e);
            }
            if (entry is null)
            {
                throw new InvalidDataException($"{log.Name}: entry {entries + 1} is empty");
            }
            if (entry.Index > state.AppliedIndex)
            {
                state = state.Apply(entry.Command, entry.Index);
            }
            entries++;
            offset = end + 1;
        }
        return (state, entries, offset);
    }
}

internal static partial class LocalLogLog
{
    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "The last entry of {File} (line {Line}) was cut short (the node stopped while writing it); that change never ran and is dropped")]
    public static partial void TornEntryDropped(ILogger logger, string file, int line);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Information, Message = "Change log snapshot written to {File} at index {Index}; the log starts afresh")]
    public static partial void SnapshotWritten(ILogger logger, string file, long index);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Warning, Message = "The configuration file differs from the configuration this node runs from its change log ({Changes}); `switchman config diff` shows it, `switchman reload` applies the file")]
    public static partial void FileDiffersFromLog(ILogger logger, string changes);
}
