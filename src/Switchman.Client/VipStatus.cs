namespace Switchman.Client;

// The documents of GET /api/v1/vips and POST /api/v1/nodes/{node}/standby|online, as the client reads them. The
// fields every node with these endpoints sends are required (the source-generated reader would leave an absent one
// null, not at its initializer's default); the others are nullable.

/// <summary><c>GET /api/v1/vips</c>: every configured VIP, and the nodes the shared state says something of.</summary>
public sealed record VipList
{
    /// <summary>The node that answered (its name in assignments): <see cref="VipStatus.HeldHere"/> speaks of its interfaces.</summary>
    public required string Node { get; init; }

    public required IReadOnlyList<VipStatus> Vips { get; init; }

    /// <summary>Nodes in standby or unable to serve some VIP; the others are not listed.</summary>
    public required IReadOnlyList<NodeStanding> Nodes { get; init; }
}

/// <summary>One VIP: its configuration, who the shared state gives it to, and whether the answering node has it.</summary>
public sealed record VipStatus
{
    public required string Name { get; init; }

    /// <summary>The address with its prefix length, e.g. 192.0.2.10/24.</summary>
    public required string Address { get; init; }

    /// <summary>The interface its holder adds it to.</summary>
    public required string Interface { get; init; }

    /// <summary>The pool it is spread with (active/active); null for a VIP of its own.</summary>
    public string? Pool { get; init; }

    /// <summary>The node that holds it as the shared state says; null while nobody does (being moved, or no node can).</summary>
    public string? Holder { get; init; }

    /// <summary>When the leader made the current assignment (or took it from its last holder); null before the first.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Why: placed, node lost, standby, unhealthy: …, preempted…</summary>
    public string? Reason { get; init; }

    public string? PreviousNode { get; init; }

    /// <summary>The leader's term when it decided.</summary>
    public long? Term { get; init; }

    /// <summary>Whether the answering node has the address on its interface now.</summary>
    public bool HeldHere { get; init; }
}

/// <summary>What the shared state says of one node's fitness to hold VIPs.</summary>
public sealed record NodeStanding
{
    public required string Node { get; init; }

    /// <summary>An operator put it in standby: it holds no VIP and is given none.</summary>
    public bool Standby { get; init; }

    /// <summary>Who put it in standby.</summary>
    public string? StandbyAuthor { get; init; }

    /// <summary>VIP name → why the node cannot serve it now, as it reported.</summary>
    public required IReadOnlyDictionary<string, string> Unready { get; init; }

    /// <summary>The VIPs the shared state gave it when the answer was written.</summary>
    public required IReadOnlyList<string> Vips { get; init; }
}
