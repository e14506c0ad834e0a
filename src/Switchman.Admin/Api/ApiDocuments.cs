using System.Text.Json.Serialization;
using Switchman.Proxy;

namespace Switchman.Admin.Api;

// The JSON documents of the admin API. Property names become snake_case (AdminApiJson); absent values are left out.

/// <summary><c>GET /api/v1/status</c>.</summary>
/// <param name="Cluster">The cluster summary (no per-member reports; see <c>GET /api/v1/cluster</c>); null when the node runs alone.</param>
/// <param name="Vips">Every configured VIP, as <c>GET /api/v1/vips</c> lists them.</param>
public sealed record NodeStatusDocument(
    NodeInfoDocument Node,
    bool Ready,
    IReadOnlyList<FrontendStatus> Frontends,
    IReadOnlyList<BackendStatusDocument> Backends,
    ClusterStatusDocument? Cluster,
    IReadOnlyList<VipStatusDocument> Vips);

/// <param name="Revision">The configuration revision the node runs.</param>
/// <param name="Id">The node's name in VIP assignments and standby commands: its cluster node id, or alone its host name.</param>
/// <param name="Standby">An operator put this node in standby: it holds no VIP and is given none.</param>
public sealed record NodeInfoDocument(long Revision, DateTimeOffset StartedAt, string Version, string Id, bool Standby);

public sealed record BackendStatusDocument(string Name, string Balance, int AvailableServers, IReadOnlyList<ServerStatusDocument> Servers);

/// <param name="RequestRate">Requests per second over the last ten seconds or so.</param>
/// <param name="SuspectSince">Since when a connect to it failed or went unanswered: it gets new requests only when no other
/// server can take them, until a connect or a health check succeeds. Absent while it is not suspect.</param>
/// <param name="HeldOut">Why this node's supervisor keeps it out of rotation: the service instance it is, on this node,
/// is not running (starting, restarting, failed, stopped). Absent while it does not.</param>
public sealed record ServerStatusDocument(
    string Name,
    string Address,
    bool Backup,
    string State,
    string Health,
    bool Available,
    int Weight,
    int InFlight,
    double RequestRate,
    long RequestsTotal,
    DateTimeOffset? EjectedUntil,
    CheckStatus? LastCheck,
    DateTimeOffset? SuspectSince = null,
    string? HeldOut = null);

/// <summary><c>GET /api/v1/vips</c>: every configured VIP and the nodes that cannot hold some now.</summary>
/// <param name="Node">The node that answered (its name in assignments), whose interfaces <c>held_here</c> speaks of.</param>
/// <param name="Nodes">The nodes the shared state says something of: in standby, or unable to serve some VIP.</param>
public sealed record VipsDocument(string Node, IReadOnlyList<VipStatusDocument> Vips, IReadOnlyList<NodeStandingDocument> Nodes);

/// <summary>One VIP: its configuration, its assignment in the shared state, and what this node's interfaces have.</summary>
/// <param name="Holder">The node the shared state gives it to; absent while nobody holds it (being moved, or no node can).</param>
/// <param name="Since">When the leader made the current assignment (or release); absent before the first one.</param>
/// <param name="Reason">Why: placed, node lost, standby, unhealthy: …, preempted…</param>
/// <param name="PreviousNode">The node that held it before.</param>
/// <param name="Term">The leader's term when it decided (the assignment's fencing token).</param>
/// <param name="HeldHere">Whether the node that answered has the address on its interface now; a holder that says false,
/// or another node that says true, is a VIP in motion or one that node cannot take.</param>
public sealed record VipStatusDocument(
    string Name,
    string Address,
    string Interface,
    string? Pool,
    string? Holder,
    DateTimeOffset? Since,
    string? Reason,
    string? PreviousNode,
    long? Term,
    bool HeldHere);

/// <summary>What the shared state says of one node's fitness to hold VIPs (the answer to <c>POST /api/v1/nodes/{node}/standby|online</c>).</summary>
/// <param name="StandbyAuthor">Who put it in standby.</param>
/// <param name="Unready">VIP name → why the node reported it cannot serve it.</param>
/// <param name="Vips">The VIPs the shared state gives it as this answer is written (a node just put in standby still has them for a moment).</param>
public sealed record NodeStandingDocument(string Node, bool Standby, string? StandbyAuthor, IReadOnlyDictionary<string, string> Unready, IReadOnlyList<string> Vips);

/// <summary>A configuration accepted (or, with <paramref name="DryRun"/>, one that would be).</summary>
/// <param name="Revision">The revision running now: the new one, or for a dry run the current one.</param>
/// <param name="Changes">What changed, in words.</param>
public sealed record ConfigChangeDocument(long Revision, IReadOnlyList<string> Changes, bool DryRun);

/// <summary><c>POST /api/v1/backends/{backend}/servers</c>: the new revision and the server as it runs now.</summary>
public sealed record ServerAddedDocument(long Revision, IReadOnlyList<string> Changes, ServerStatusDocument? Server);

/// <summary><c>GET /api/v1/whoami</c>: the token that was presented, by its configured name, and its role.</summary>
/// <param name="Role">read or admin.</param>
public sealed record WhoAmIDocument(string Name, string Role)
{
    public static WhoAmIDocument Of(System.Security.Claims.ClaimsPrincipal user) => new(
        user.Identity?.Name ?? "",
        user.IsInRole(Auth.AdminPolicies.Admin) ? Auth.AdminPolicies.Admin : Auth.AdminPolicies.Read);
}

/// <summary>Every error answer: <c>{"error": "..."}</c> plus the details that apply.</summary>
public sealed record ApiError(string Error)
{
    /// <summary>409: the revision the node is at.</summary>
    public long? CurrentRevision { get; init; }

    /// <summary>409: the revision the request was based on.</summary>
    public long? ExpectedRevision { get; init; }

    /// <summary>422: every validation error.</summary>
    public IReadOnlyList<ApiValidationError>? Errors { get; init; }

    /// <summary>404: the backends that do exist.</summary>
    public IReadOnlyList<string>? Backends { get; init; }

    /// <summary>404: the servers that do exist in the backend.</summary>
    public IReadOnlyList<string>? Servers { get; init; }

    /// <summary>409 on removal: requests still in flight when the wait ended.</summary>
    public int? InFlight { get; init; }

    /// <summary>404 for a node: the nodes that do exist.</summary>
    public IReadOnlyList<string>? Nodes { get; init; }

    /// <summary>400 for a query parameter: the parameters the endpoint accepts (empty: none).</summary>
    public IReadOnlyList<string>? Accepted { get; init; }
}

/// <param name="File">The file the error is in when it is one (a reload); absent for a request body.</param>
/// <param name="Line">1-based line in the YAML or JSON that was sent; 0 when the error has no position.</param>
public sealed record ApiValidationError(string? File, string Path, int Line, int Column, string Message);

/// <summary>Body of <c>POST …/state</c>.</summary>
/// <param name="State">ready, drain or maint.</param>
public sealed record ServerStateRequest(string State);

/// <summary>Body of <c>PUT …/weight</c>.</summary>
/// <param name="Weight">0 to 256.</param>
public sealed record ServerWeightRequest(int Weight);

/// <summary>Body of <c>POST /api/v1/backends/{backend}/servers</c>.</summary>
public sealed record AddServerRequest(string Name, string Address, int? Weight, bool? Backup, string? State);

/// <summary><c>GET /api/v1/services</c>: every configured service and its instance on each node that reported one.</summary>
/// <param name="Node">The node that answered.</param>
public sealed record ServicesDocument(string Node, IReadOnlyList<ServiceDocument> Services);

/// <summary>One service: how it is placed, its backend, whether an operator stopped it, and its instances by node.</summary>
/// <param name="StoppedBy">Who stopped it (<c>switchman service stop</c>); absent while it is meant to run.</param>
public sealed record ServiceDocument(string Name, string Placement, string? Backend, string? StoppedBy, IReadOnlyList<ServiceInstanceDocument> Instances);

/// <summary>One instance as its node last reported it.</summary>
/// <param name="Server">The backend server it is, on that node.</param>
/// <param name="State">stopped, starting, running, stopping, restarting or failed.</param>
/// <param name="Failures">Failures within the service's failure_timeout.</param>
/// <param name="Problem">Why it is not running when it should be.</param>
public sealed record ServiceInstanceDocument(
    string Node, string? Server, string State, int? Pid, DateTimeOffset? StartedAt, int Failures, string? LastFailure, DateTimeOffset? LastFailureAt, string? Problem);

/// <summary>The answer to a service action: the service as it is afterwards, and the steps taken (a rolling restart's, one per line).</summary>
public sealed record ServiceActionDocument(ServiceDocument Service, IReadOnlyList<string> Steps);

/// <summary>A failed rolling restart: what was done, and where it stopped.</summary>
public sealed record ServiceActionFailedDocument(string Error, IReadOnlyList<string> Steps);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(NodeStatusDocument))]
[JsonSerializable(typeof(ServicesDocument))]
[JsonSerializable(typeof(ServiceActionDocument))]
[JsonSerializable(typeof(ServiceActionFailedDocument))]
[JsonSerializable(typeof(ServerStatusDocument))]
[JsonSerializable(typeof(ConfigChangeDocument))]
[JsonSerializable(typeof(ServerAddedDocument))]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(WhoAmIDocument))]
[JsonSerializable(typeof(VipsDocument))]
[JsonSerializable(typeof(NodeStandingDocument))]
[JsonSerializable(typeof(ClusterStatusDocument))]
[JsonSerializable(typeof(AddMemberRequest))]
[JsonSerializable(typeof(MembershipChangeDocument))]
[JsonSerializable(typeof(ClusterSelfDocument))]
[JsonSerializable(typeof(ServerStateRequest))]
[JsonSerializable(typeof(ServerWeightRequest))]
[JsonSerializable(typeof(AddServerRequest))]
[JsonSerializable(typeof(Control.NodeEvent))]
[JsonSerializable(typeof(IReadOnlyList<Control.NodeEvent>))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(bool))]
public sealed partial class AdminApiJson : JsonSerializerContext;
