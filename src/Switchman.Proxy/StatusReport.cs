using System.Text.Json.Serialization;

namespace Switchman.Proxy;

/// <summary>What the admin status endpoint reports about the data plane: a point-in-time copy, safe to serialise.</summary>
public sealed record StatusReport(
    [property: JsonPropertyName("ready")] bool Ready,
    [property: JsonPropertyName("frontends")] IReadOnlyList<FrontendStatus> Frontends,
    [property: JsonPropertyName("backends")] IReadOnlyList<BackendStatus> Backends);

public sealed record FrontendStatus(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("listen")] string Listen,
    [property: JsonPropertyName("urls")] IReadOnlyList<string> Urls);

public sealed record BackendStatus(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("balance")] string Balance,
    [property: JsonPropertyName("available_servers")] int AvailableServers,
    [property: JsonPropertyName("servers")] IReadOnlyList<ServerStatus> Servers);

public sealed record ServerStatus(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("address")] string Address,
    [property: JsonPropertyName("backup")] bool Backup,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("health")] string Health,
    [property: JsonPropertyName("available")] bool Available,
    [property: JsonPropertyName("weight")] int Weight,
    [property: JsonPropertyName("in_flight")] int InFlight,
    [property: JsonPropertyName("requests_total")] long RequestsTotal,
    [property: JsonPropertyName("ejected_until")] DateTimeOffset? EjectedUntil,
    [property: JsonPropertyName("last_check")] CheckStatus? LastCheck,
    [property: JsonPropertyName("suspect_since")] DateTimeOffset? SuspectSince = null,
    [property: JsonPropertyName("held_out")] string? HeldOut = null);

public sealed record CheckStatus(
    [property: JsonPropertyName("success")] bool Success,
    [property: JsonPropertyName("detail")] string Detail,
    [property: JsonPropertyName("time")] DateTimeOffset Time,
    [property: JsonPropertyName("duration_ms")] double DurationMs);

[JsonSerializable(typeof(StatusReport))]
public sealed partial class StatusJsonContext : JsonSerializerContext;
