namespace Switchman.Client;

// The documents of GET /api/v1/status, as the client reads them. The few fields marked required are the ones every
// node has always sent: an answer without them is not from an admin API (say, a frontend port given by mistake, whose
// backend echoes JSON back). Every other field has a default, so a node that does not send it (an older node, or a
// field added later) still parses; the fields not every node reports (node, request_rate, cluster, vips) are nullable.

/// <summary><c>GET /api/v1/status</c>: the node, its frontends, and every backend with its servers.</summary>
public sealed record NodeStatus
{
    /// <summary>Revision, start time and version of the node; null when the node does not report them.</summary>
    public NodeInfo? Node { get; init; }

    /// <summary>True once the first round of health checks has completed.</summary>
    public required bool Ready { get; init; }

    public required IReadOnlyList<FrontendStatus> Frontends { get; init; }

    public required IReadOnlyList<BackendStatus> Backends { get; init; }

    /// <summary>
    /// The node's place in its cluster (no per-member reports: see <see cref="AdminClient.GetClusterAsync"/>); null
    /// when the node runs alone, or does not report it.
    /// </summary>
    public ClusterStatus? Cluster { get; init; }

    /// <summary>Every configured VIP, as <see cref="AdminClient.GetVipsAsync"/> lists them; null when the node does not report them.</summary>
    public IReadOnlyList<VipStatus>? Vips { get; init; }

    /// <summary>The server <paramref name="server"/> of backend <paramref name="backend"/>, or null when there is no such server.</summary>
    public ServerStatus? FindServer(string backend, string server) =>
        Backends.FirstOrDefault(b => b.Name == backend)?.Servers.FirstOrDefault(s => s.Name == server);
}

public sealed record NodeInfo
{
    /// <summary>The configuration revision the node runs.</summary>
    public long Revision { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public string? Version { get; init; }

    /// <summary>The node's name in VIP assignments and standby commands (its cluster node id, or alone its host name); null when not reported.</summary>
    public string? Id { get; init; }

    /// <summary>An operator put the node in standby: it holds no VIP and is given none.</summary>
    public bool Standby { get; init; }
}

public sealed record FrontendStatus
{
    public string Name { get; init; } = "";

    /// <summary>The configured listen address, e.g. 127.0.0.1:8080.</summary>
    public string Listen { get; init; } = "";

    /// <summary>The addresses actually bound (differs from <see cref="Listen"/> for port 0).</summary>
    public IReadOnlyList<string> Urls { get; init; } = [];
}

public sealed record BackendStatus
{
    public string Name { get; init; } = "";

    public string Balance { get; init; } = "";

    public int AvailableServers { get; init; }

    public IReadOnlyList<ServerStatus> Servers { get; init; } = [];
}

public sealed record ServerStatus
{
    public required string Name { get; init; }

    public string Address { get; init; } = "";

    public bool Backup { get; init; }

    /// <summary>The administrative state: ready, drain or maint (see <see cref="ServerStates"/>).</summary>
    public required string State { get; init; }

    /// <summary>What the health checks say: up or down.</summary>
    public required string Health { get; init; }

    /// <summary>Whether the balancer may send new requests to it now.</summary>
    public bool Available { get; init; }

    public int Weight { get; init; }

    /// <summary>Since when a connect to it failed or went unanswered (it gets new requests only when no other server can); null while it is not suspect.</summary>
    public DateTimeOffset? SuspectSince { get; init; }

    /// <summary>Why this node's supervisor keeps it out of rotation (its service instance here is not running); null while it does not.</summary>
    public string? HeldOut { get; init; }

    /// <summary>Requests the node is forwarding to this server right now.</summary>
    public required int InFlight { get; init; }

    /// <summary>Requests per second recently; null when the node does not report it.</summary>
    public double? RequestRate { get; init; }

    public long RequestsTotal { get; init; }

    /// <summary>Until when passive health checks keep the server out, if they do.</summary>
    public DateTimeOffset? EjectedUntil { get; init; }

    public CheckResult? LastCheck { get; init; }
}

public sealed record CheckResult
{
    public bool Success { get; init; }

    public string Detail { get; init; } = "";

    public DateTimeOffset Time { get; init; }

    public double DurationMs { get; init; }
}

/// <summary>The administrative states a server can be put in.</summary>
public static class ServerStates
{
    /// <summary>Takes traffic.</summary>
    public const string Ready = "ready";

    /// <summary>Takes no new requests; those in flight finish (sticky clients may still reach it, as in HAProxy).</summary>
    public const string Drain = "drain";

    /// <summary>Out of service: no traffic at all.</summary>
    public const string Maint = "maint";
}
