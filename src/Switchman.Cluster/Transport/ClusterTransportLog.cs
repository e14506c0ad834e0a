using Microsoft.Extensions.Logging;

namespace Switchman.Cluster.Transport;

/// <summary>Log lines of the cluster transport; event ids 5101–5199. None of them ever carries the secret.</summary>
internal static partial class ClusterTransportLog
{
    [LoggerMessage(EventId = 5101, EventName = "ClusterConnectionRefused", Level = LogLevel.Warning,
        Message = "Refused cluster connection from {Remote}: {Reason}")]
    public static partial void ConnectionRefused(this ILogger logger, string remote, string reason);

    [LoggerMessage(EventId = 5102, EventName = "ClusterHandshakeFailed", Level = LogLevel.Debug,
        Message = "Cluster connection to {Peer} failed: {Reason}")]
    public static partial void OutboundFailed(this ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 5103, EventName = "ClusterInboundDroppedWhileIsolated", Level = LogLevel.Debug,
        Message = "Closed cluster connection from {Remote}: cluster traffic is isolated")]
    public static partial void InboundDroppedWhileIsolated(this ILogger logger, string remote);

    [LoggerMessage(EventId = 5104, EventName = "ClusterTrafficIsolated", Level = LogLevel.Warning,
        Message = "Cluster traffic isolated (fault hook): every cluster connection aborted, new ones refused")]
    public static partial void TrafficIsolated(this ILogger logger);

    [LoggerMessage(EventId = 5105, EventName = "ClusterTrafficHealed", Level = LogLevel.Information,
        Message = "Cluster traffic healed (fault hook): cluster connections allowed again")]
    public static partial void TrafficHealed(this ILogger logger);

    [LoggerMessage(EventId = 5106, EventName = "ClusterAcceptFailed", Level = LogLevel.Warning,
        Message = "Accepting cluster connections on {EndPoint} failed; trying again")]
    public static partial void AcceptFailed(this ILogger logger, string endPoint, Exception exception);

    [LoggerMessage(EventId = 5107, EventName = "ClusterConnectionAuthenticated", Level = LogLevel.Debug,
        Message = "Authenticated {Direction} cluster connection with node {NodeId} at {Address} ({Remote})")]
    public static partial void Authenticated(this ILogger logger, string direction, string nodeId, string address, string remote);

    [LoggerMessage(EventId = 5108, EventName = "ClusterPeerAddressMismatch", Level = LogLevel.Debug,
        Message = "Cluster peer dialed at {Dialed} calls itself node {NodeId} at {Address}; its last contact is recorded under {Address}")]
    public static partial void PeerAddressMismatch(this ILogger logger, string dialed, string nodeId, string address);

    [LoggerMessage(EventId = 5109, EventName = "ClusterListening", Level = LogLevel.Information,
        Message = "Listening for cluster connections on {EndPoint}: {Protection}")]
    public static partial void Listening(this ILogger logger, string endPoint, string protection);

    [LoggerMessage(EventId = 5110, EventName = "ClusterConnectionClosedBeforeHello", Level = LogLevel.Debug,
        Message = "Cluster connection from {Remote} closed before sending anything")]
    public static partial void ClosedBeforeHello(this ILogger logger, string remote);

    [LoggerMessage(EventId = 5111, EventName = "ClusterHandshakeAbandoned", Level = LogLevel.Information,
        Message = "Cluster connection from {Remote} ended before its handshake completed: {Reason}")]
    public static partial void HandshakeAbandoned(this ILogger logger, string remote, string reason);

    [LoggerMessage(EventId = 5112, EventName = "ClusterPeerUnreachable", Level = LogLevel.Debug,
        Message = "Cluster peer {Address} is unreachable: {Reason}; its cluster connections are aborted until it answers again")]
    public static partial void PeerUnreachable(this ILogger logger, string address, string reason);

    [LoggerMessage(EventId = 5113, EventName = "ClusterPeerReachable", Level = LogLevel.Debug,
        Message = "Cluster peer {Address} answers liveness pings")]
    public static partial void PeerReachable(this ILogger logger, string address);

    [LoggerMessage(EventId = 5114, EventName = "ClusterLivenessSessionEnded", Level = LogLevel.Debug,
        Message = "Liveness connection from node {NodeId} at {Address} ended: {Reason}")]
    public static partial void LivenessSessionEnded(this ILogger logger, string nodeId, string address, string reason);

    [LoggerMessage(EventId = 5115, EventName = "ClusterTrafficNotEncrypted", Level = LogLevel.Warning,
        Message = "Cluster traffic on {EndPoint} is authenticated with the shared secret but not encrypted: anyone on the path "
            + "can read the configuration it carries and alter Raft messages after each handshake. Set cluster.tls for mutual TLS (docs/security.md)")]
    public static partial void TrafficNotEncrypted(this ILogger logger, string endPoint);

    [LoggerMessage(EventId = 5116, EventName = "ClusterTlsFilesReloaded", Level = LogLevel.Information,
        Message = "Cluster TLS files changed and were loaded: new connections present {Subject} (valid until {NotAfter:u}); established ones keep theirs")]
    public static partial void TlsFilesReloaded(this ILogger logger, string subject, DateTime notAfter);

    [LoggerMessage(EventId = 5117, EventName = "ClusterTlsFilesReloadFailed", Level = LogLevel.Error,
        Message = "Cluster TLS: {Problem}")]
    public static partial void TlsFilesReloadFailed(this ILogger logger, string problem);
}
