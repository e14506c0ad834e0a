using Microsoft.Extensions.Logging;

namespace Switchman.Cluster;

/// <summary>The cluster plane's log messages; event ids 5001–5099 (the transport's are 5101 on).</summary>
internal static partial class ClusterLogMessages
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Cluster node {NodeId} started on {Address} as {Role}: revision {Revision}, committed index {CommitIndex}")]
    public static partial void Started(ILogger logger, string nodeId, string address, string role, long revision, long commitIndex);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Cluster node {NodeId} stopped")]
    public static partial void Stopped(ILogger logger, string nodeId);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "Leader is now {Leader} in term {Term}")]
    public static partial void LeaderChanged(ILogger logger, string leader, long term);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Membership seeded from the configuration file: {Count} voter(s)")]
    public static partial void MembershipSeeded(ILogger logger, int count);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "Log entry {Index} is not a command this version knows; skipped")]
    public static partial void UnknownEntrySkipped(ILogger logger, long index);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Information, Message = "Restored snapshot {Snapshot}: applied index {Index}, revision {Revision}")]
    public static partial void SnapshotRestored(ILogger logger, string snapshot, long index, long revision);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Warning, Message = "Resigning leadership at shutdown failed: {Reason}")]
    public static partial void ResignFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Warning, Message = "Adding member {Address}: it did not catch up in warm-up attempt {Attempt}; trying again")]
    public static partial void AddMemberRetry(ILogger logger, string address, int attempt);

    [LoggerMessage(EventId = 5009, Level = LogLevel.Error, Message = "Learning members' ids and admin URLs stopped on an unexpected error")]
    public static partial void MetadataLoopFailed(ILogger logger, Exception exception);
}
