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

    [LoggerMessage(EventId = 5010, Level = LogLevel.Information, Message = "Cluster node {NodeId} started with an empty data directory: it withholds its vote until it has caught up with a leader, or until {Required} of the {Others} other members answer that they never held a log entry either (a brand-new cluster)")]
    public static partial void VoteWithheldAtStart(ILogger logger, string nodeId, int required, int others);

    [LoggerMessage(EventId = 5011, Level = LogLevel.Information, Message = "Cluster node {NodeId} votes: {Empty} of the {Others} other members never held a log entry, so nothing was ever committed (a brand-new cluster)")]
    public static partial void VoteReleasedNewCluster(ILogger logger, string nodeId, int empty, int others);

    [LoggerMessage(EventId = 5012, Level = LogLevel.Information, Message = "Cluster node {NodeId} votes again: caught up with leader {Leader} to committed index {Index} in term {Term}")]
    public static partial void VoteReleasedCaughtUp(ILogger logger, string nodeId, string leader, long index, long term);

    [LoggerMessage(EventId = 5013, Level = LogLevel.Warning, Message = "Cluster node {NodeId} still withholds its vote after {Seconds} s: no leader to catch up with, and {Empty} of the {Others} other members answer that they never held a log entry ({Required} needed). If this node lost its data directory, the other members must elect a leader without it; a brand-new cluster elects its first leader once enough members have started")]
    public static partial void VoteStillWithheld(ILogger logger, string nodeId, int seconds, int empty, int others, int required);

    [LoggerMessage(EventId = 5014, Message = "Witness {NodeId} stands in: no leader for {Milliseconds} ms; it leaves standby and stands for election with its log (last index {LastIndex}), so that a load balancer behind it can catch up")]
    public static partial void WitnessStandingIn(ILogger logger, LogLevel level, string nodeId, long milliseconds, long lastIndex);

    [LoggerMessage(EventId = 5015, Level = LogLevel.Information, Message = "Witness {NodeId} leads in term {Term} as a stand-in; it hands leadership back once index {Index} is committed")]
    public static partial void WitnessLeadsAsStandIn(ILogger logger, string nodeId, long term, long index);

    [LoggerMessage(EventId = 5016, Message = "Witness {NodeId} is back in standby: {Outcome}")]
    public static partial void WitnessBackInStandby(ILogger logger, LogLevel level, string nodeId, string outcome);

    [LoggerMessage(EventId = 5017, Level = LogLevel.Error, Message = "The cluster member's {Loop} stopped on an unexpected error")]
    public static partial void LoopFailed(ILogger logger, string loop, Exception exception);
}
