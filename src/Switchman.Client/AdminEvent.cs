using System.Text.Json;

namespace Switchman.Client;

/// <summary>One event from <c>GET /api/v1/events</c>: something that changed on the node.</summary>
public sealed record AdminEvent
{
    /// <summary>Increasing sequence number; pass it as <c>since</c> to resume after this event.</summary>
    public required long Id { get; init; }

    public DateTimeOffset Time { get; init; }

    /// <summary>server_down, server_up, server_state_changed, config_applied, config_refused, …</summary>
    public required string Type { get; init; }

    /// <summary>One line for humans.</summary>
    public string Message { get; init; } = "";

    /// <summary>Machine-readable details, as the node sent them.</summary>
    public JsonElement? Data { get; init; }
}

/// <summary>An event together with the JSON it arrived as, so scripts can be given exactly what the node said.</summary>
public sealed record AdminEventItem(AdminEvent Event, string Json);
