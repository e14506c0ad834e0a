namespace Switchman.Admin.Api;

// The cluster's JSON documents (snake_case through AdminApiJson; absent values left out).

/// <summary><c>GET /api/v1/cluster</c>: the cluster as this node sees it, with each member's own report.</summary>
/// <param name="Enabled">False when the node runs alone (no <c>cluster:</c> section); nothing else is set then.</param>
/// <param name="Leader">The leader's node id (or address while its id is not known); null while there is none.</param>
/// <param name="CommitIndex">The highest committed log index this node knows.</param>
/// <param name="Revision">The configuration revision this node runs.</param>
public sealed record ClusterStatusDocument(
    bool Enabled,
    string? NodeId = null,
    string? Role = null,
    long? Term = null,
    string? Leader = null,
    long? CommitIndex = null,
    long? AppliedIndex = null,
    long? Revision = null,
    IReadOnlyList<ClusterMemberDocument>? Members = null);

/// <param name="Status">available, unavailable or unknown: whether this node's last cluster request to it succeeded.</param>
/// <param name="LastContact">When this node last received cluster traffic from it (null for itself, or never).</param>
/// <param name="Revision">The configuration revision it runs, from its own report (null when it did not answer).</param>
/// <param name="AppliedIndex">The last log index it applied, from its own report.</param>
/// <param name="Lag">Committed entries it has yet to apply: the highest commit index known minus its applied index.</param>
/// <param name="Error">Why its report is missing.</param>
public sealed record ClusterMemberDocument(
    string? Id,
    string Address,
    string? AdminUrl,
    string? Role,
    bool Leader,
    bool Local,
    string Status,
    DateTimeOffset? LastContact,
    long? Term,
    long? Revision,
    long? AppliedIndex,
    long? Lag,
    string? Error);

/// <summary><c>POST /api/v1/cluster/members</c>: the new member's cluster address, and optionally the id it must report.</summary>
public sealed record AddMemberRequest(string Address, string? Id);

/// <summary>What <c>members add|remove</c> did, and the membership after it.</summary>
public sealed record MembershipChangeDocument(string Change, string Address, string? Id, IReadOnlyList<ClusterMemberDocument> Members);

/// <summary>One node's own report, as other nodes ask for it (internal, signed with the cluster secret).</summary>
public sealed record ClusterSelfDocument(string NodeId, string Role, long Term, string? Leader, long CommitIndex, long AppliedIndex, long Revision);
