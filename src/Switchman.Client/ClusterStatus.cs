namespace Switchman.Client;

// The documents of the cluster API (GET /api/v1/cluster, POST and DELETE /api/v1/cluster/members), as the client reads
// them. As in NodeStatus.cs, the one field marked required is one every node sends (an answer without it is not from
// an admin API); every other field has a default or is nullable, so a node that leaves one out still parses. The
// source-generated reader sets every init-only property, passing null for those the JSON leaves out: the non-nullable
// ones turn that null back into their default in their init accessor.

/// <summary>
/// <c>GET /api/v1/cluster</c>: the cluster as the node sees it, and each member's own report; also the <c>cluster</c>
/// object of <c>GET /api/v1/status</c> (without <see cref="Members"/> there).
/// </summary>
public sealed record ClusterStatus
{
    /// <summary>False when the node runs alone (no <c>cluster:</c> section); nothing else is set then.</summary>
    public required bool Enabled { get; init; }

    /// <summary>This node's id (<c>cluster.node_id</c>).</summary>
    public string? NodeId { get; init; }

    /// <summary>This node's role: voter or witness (see <see cref="ClusterRoles"/>).</summary>
    public string? Role { get; init; }

    /// <summary>The Raft term this node is in.</summary>
    public long? Term { get; init; }

    /// <summary>The leader's node id (or its address while its id is not known); null while there is none.</summary>
    public string? Leader { get; init; }

    /// <summary>The highest committed log index this node knows.</summary>
    public long? CommitIndex { get; init; }

    /// <summary>The last log index this node applied.</summary>
    public long? AppliedIndex { get; init; }

    /// <summary>The configuration revision this node runs.</summary>
    public long? Revision { get; init; }

    /// <summary>Every member, this node included; empty in the <c>cluster</c> object of <c>GET /api/v1/status</c>.</summary>
    public IReadOnlyList<ClusterMember> Members { get; init => field = value ?? []; } = [];
}

/// <summary>One member of the cluster: what the node knows of it, and the member's own report.</summary>
public sealed record ClusterMember
{
    /// <summary>Its node id; null until it has been reached once.</summary>
    public string? Id { get; init; }

    /// <summary>Its cluster (Raft) address, IP:port: its identity in the membership.</summary>
    public string Address { get; init => field = value ?? ""; } = "";

    /// <summary>Where its admin API listens, when known.</summary>
    public string? AdminUrl { get; init; }

    /// <summary>voter or witness (see <see cref="ClusterRoles"/>); null until known.</summary>
    public string? Role { get; init; }

    /// <summary>True for the leader.</summary>
    public bool Leader { get; init; }

    /// <summary>True for the node that answered.</summary>
    public bool Local { get; init; }

    /// <summary>available, unavailable or unknown (see <see cref="ClusterMemberStatuses"/>): whether the node's last cluster request to it succeeded.</summary>
    public string Status { get; init => field = value ?? ClusterMemberStatuses.Unknown; } = ClusterMemberStatuses.Unknown;

    /// <summary>When the node last received cluster traffic from it; null for the node itself, or never.</summary>
    public DateTimeOffset? LastContact { get; init; }

    public long? Term { get; init; }

    /// <summary>The configuration revision it runs, from its own report; null when it did not answer.</summary>
    public long? Revision { get; init; }

    /// <summary>The last log index it applied, from its own report.</summary>
    public long? AppliedIndex { get; init; }

    /// <summary>Committed entries it has yet to apply.</summary>
    public long? Lag { get; init; }

    /// <summary>Why its report is missing.</summary>
    public string? Error { get; init; }

    /// <summary>"lb2 (127.0.0.1:7002)", or the address alone while the id is not known.</summary>
    public string Describe() => Id is { Length: > 0 } id ? $"{id} ({Address})" : Address;
}

/// <summary><c>members add|remove</c>: what changed, and the membership after it.</summary>
public sealed record MembershipChange
{
    /// <summary>added or removed (see <see cref="MembershipChanges"/>).</summary>
    public required string Change { get; init; }

    /// <summary>The cluster address of the member added or removed.</summary>
    public string Address { get; init => field = value ?? ""; } = "";

    /// <summary>Its node id, when known.</summary>
    public string? Id { get; init; }

    /// <summary>Every member after the change.</summary>
    public IReadOnlyList<ClusterMember> Members { get; init => field = value ?? []; } = [];

    /// <summary>"lb4 (127.0.0.1:7004)", or the address alone when the id is not known.</summary>
    public string Describe() => Id is { Length: > 0 } id ? $"{id} ({Address})" : Address;
}

/// <summary>The roles a member can have.</summary>
public static class ClusterRoles
{
    /// <summary>A full member: votes, may lead, serves traffic.</summary>
    public const string Voter = "voter";

    /// <summary>Votes, never leads, serves no traffic.</summary>
    public const string Witness = "witness";
}

/// <summary>Whether the node's last cluster request to a member succeeded.</summary>
public static class ClusterMemberStatuses
{
    public const string Available = "available";

    public const string Unavailable = "unavailable";

    public const string Unknown = "unknown";
}

/// <summary>The values of <see cref="MembershipChange.Change"/>.</summary>
public static class MembershipChanges
{
    public const string Added = "added";

    public const string Removed = "removed";
}

/// <summary>The body of <c>POST /api/v1/cluster/members</c>; a null id is left out.</summary>
internal sealed record AddMemberRequest(string Address, string? Id);
