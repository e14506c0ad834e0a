using System.Text.Json.Serialization;
using Switchman.Proxy;

namespace Switchman.Admin.Api;

// The JSON documents of the admin API. Property names become snake_case (AdminApiJson); absent values are left out.

/// <summary><c>GET /api/v1/status</c>.</summary>
/// <param name="Cluster">The cluster summary (no per-member reports; see <c>GET /api/v1/cluster</c>); null when the node runs alone.</param>
public sealed record NodeStatusDocument(
    NodeInfoDocument Node, bool Ready, IReadOnlyList<FrontendStatus> Frontends, IReadOnlyList<BackendStatusDocument> Backends, ClusterStatusDocument? Cluster = null);

/// <param name="Revision">The configuration revision the node runs.</param>
public sealed record NodeInfoDocument(long Revision, DateTimeOffset StartedAt, string Version);

public sealed record BackendStatusDocument(string Name, string Balance, int AvailableServers, IReadOnlyList<ServerStatusDocument> Servers);

/// <param name="RequestRate">Requests per second over the last ten seconds or so.</param>
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
    CheckStatus? LastCheck);

/// <summary>A configuration accepted (or, with <paramref name="DryRun"/>, one that would be).</summary>
/// <param name="Revision">The revision running now: the new one, or for a dry run the current one.</param>
/// <param name="Changes">What changed, in words.</param>
public sealed record ConfigChangeDocument(long Revision, IReadOnlyList<string> Changes, bool DryRun);

/// <summary><c>POST /api/v1/backends/{backend}/servers</c>: the new revision and the server as it runs now.</summary>
public sealed record ServerAddedDocument(long Revision, IReadOnlyList<string> Changes, ServerStatusDocument? Server);

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

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(NodeStatusDocument))]
[JsonSerializable(typeof(ServerStatusDocument))]
[JsonSerializable(typeof(ConfigChangeDocument))]
[JsonSerializable(typeof(ServerAddedDocument))]
[JsonSerializable(typeof(ApiError))]
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
