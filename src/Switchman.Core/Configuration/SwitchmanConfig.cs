namespace Switchman.Core.Configuration;

/// <summary>
/// The whole desired configuration of one node: an immutable snapshot with value equality.
/// YAML keys are the snake_case form of the property names (ClientIdle → client_idle).
/// Frontends and backends are YAML maps keyed by name; the key becomes <c>Name</c>.
/// </summary>
public sealed record SwitchmanConfig
{
    public AdminConfig Admin { get; init; } = new();

    public AccessLogConfig AccessLog { get; init; } = new();

    public ValueList<FrontendConfig> Frontends { get; init; } = ValueList<FrontendConfig>.Empty;

    public ValueList<BackendConfig> Backends { get; init; } = ValueList<BackendConfig>.Empty;

    public BackendConfig? FindBackend(string name)
    {
        foreach (var backend in Backends)
        {
            if (backend.Name == name)
            {
                return backend;
            }
        }
        return null;
    }
}

/// <summary>The admin listener: health, readiness, metrics and the status API.</summary>
public sealed record AdminConfig
{
    /// <summary>address:port; loopback unless the operator says otherwise.</summary>
    public string Listen { get; init; } = "127.0.0.1:9090";
}

/// <summary>Where the access log goes: <c>stdout</c>, a file path, or nowhere when absent.</summary>
public sealed record AccessLogConfig
{
    public string? Path { get; init; }
}
