namespace Switchman.Cluster;

/// <summary>One member as this node sees it.</summary>
/// <param name="Address">Cluster address (IP:port), the member's identity in the Raft membership.</param>
/// <param name="Id">Node id, from the member's metadata; null until it has been reached once.</param>
/// <param name="AdminUrl">Where its admin API listens (for forwarding and status), from its metadata.</param>
/// <param name="Role">voter or witness; null until known.</param>
/// <param name="Status">available, unavailable or unknown (DotNext's view from the last request to it).</param>
/// <param name="LastContact">When this node last received bytes from it; null if never (or it is this node).</param>
public sealed record ClusterMemberView(
    string Address,
    string? Id,
    string? AdminUrl,
    string? Role,
    bool IsLocal,
    bool IsLeader,
    string Status,
    DateTimeOffset? LastContact);
