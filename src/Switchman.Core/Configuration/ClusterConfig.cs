namespace Switchman.Core.Configuration;

/// <summary>
/// This node's membership in a Switchman cluster (the <c>cluster:</c> section). Absent: the node runs alone. Node-local:
/// it is never replicated, and neither is <see cref="SwitchmanConfig.Admin"/>; everything else is the cluster's shared
/// configuration.
/// </summary>
public sealed record ClusterConfig
{
    /// <summary>This node's name among its peers: letters, digits, '-', '_' and '.', at most 63 characters.</summary>
    public required string NodeId { get; init; }

    /// <summary>address:port of this node's cluster (Raft) traffic; the address its peers list for it. A literal,
    /// non-wildcard IP address and a port from 1 to 65535.</summary>
    public required string Listen { get; init; }

    /// <summary>The other members at first start. Ignored once the data directory holds a membership.</summary>
    public ValueList<ClusterPeerConfig> Peers { get; init; } = ValueList<ClusterPeerConfig>.Empty;

    /// <summary>Where the log, snapshots and membership live; absolute once loaded.</summary>
    public required string DataDir { get; init; }

    /// <summary>A file holding the shared secret of cluster traffic (at least 16 bytes after trimming white space); absolute once loaded.</summary>
    public string? SecretFile { get; init; }

    /// <summary>An environment variable holding the shared secret.</summary>
    public string? SecretEnv { get; init; }

    /// <summary>
    /// Mutual TLS 1.3 for cluster traffic: this node's certificate and key, and the cluster's CA. Absent: cluster
    /// traffic is authenticated with the secret but not encrypted (docs/security.md).
    /// </summary>
    public ClusterTlsConfig? Tls { get; init; }

    /// <summary><c>voter</c> (default) or <c>witness</c>: votes, never leads, serves no traffic.</summary>
    public ClusterRole Role { get; init; } = ClusterRole.Voter;

    /// <summary>
    /// Start as a new node waiting to be added (<c>switchman members add</c>) instead of forming a cluster with
    /// <see cref="Peers"/>. Used for a node that joins a running cluster, or one that rejoins with an empty disk.
    /// </summary>
    public bool Join { get; init; }

    /// <summary>Election timeout range: a follower that hears no leader for a random time in this range stands.
    /// At least 50 ms.</summary>
    public TimeSpan ElectionTimeoutMin { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The upper end of the election timeout range; greater than <see cref="ElectionTimeoutMin"/>.</summary>
    public TimeSpan ElectionTimeoutMax { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long one cluster request (and a connection's handshake) may take before the peer counts as
    /// unreachable. At least 100 ms.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Take a snapshot (and compact the log) after this many applied entries. At least 10.</summary>
    public int SnapshotEvery { get; init; } = 100;
}

/// <summary>
/// The files of mutual TLS between cluster members (PEM; absolute once loaded). The certificate must name this node's
/// id (a DNS subject alternative name, or the common name when it has none) and chain to <see cref="Ca"/>; every
/// peer's must do the same for the id it claims. Re-read when they change on disk.
/// </summary>
public sealed record ClusterTlsConfig
{
    public required string Cert { get; init; }

    public required string Key { get; init; }

    /// <summary>The CA certificate(s) that issue members' certificates; peers are checked against these only.</summary>
    public required string Ca { get; init; }
}

/// <summary>Another member, as listed in the <c>cluster.peers</c> of a node's file.</summary>
public sealed record ClusterPeerConfig
{
    /// <summary>The peer's <see cref="ClusterConfig.NodeId"/>.</summary>
    public required string Id { get; init; }

    /// <summary>address:port of the peer's cluster traffic: its <see cref="ClusterConfig.Listen"/>, a literal IP address.</summary>
    public required string Address { get; init; }
}

public enum ClusterRole
{
    /// <summary>A full member: votes, may lead, serves traffic.</summary>
    Voter,

    /// <summary>Votes so that two load balancers keep quorum, never leads, serves no traffic.</summary>
    Witness,
}
