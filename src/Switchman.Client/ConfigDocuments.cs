namespace Switchman.Client;

/// <summary>The two forms the admin API reads and writes a configuration in.</summary>
public enum ConfigFormat
{
    Yaml,
    Json,
}

/// <summary><c>GET /api/v1/config</c>: the running configuration and the revision it is (from the ETag).</summary>
/// <param name="Text">The configuration, as YAML or JSON.</param>
/// <param name="Revision">The revision named by the ETag; null when the node sent none.</param>
public sealed record ConfigDocument(string Text, long? Revision);

/// <summary>A configuration accepted by <c>PUT /api/v1/config</c> or <c>POST /api/v1/reload</c> (or, for a dry run, one that would be).</summary>
public sealed record ConfigChange
{
    /// <summary>The revision now running: the new one, or for a dry run or an unchanged file the current one.</summary>
    public required long Revision { get; init; }

    /// <summary>What changed, in words: "backend api changed: server c removed".</summary>
    public IReadOnlyList<string> Changes { get; init; } = [];

    /// <summary>True when nothing was applied because the request asked for a dry run; null when the node does not say.</summary>
    public bool? DryRun { get; init; }
}

/// <summary>A server to add to a backend (<c>POST /api/v1/backends/{backend}/servers</c>); unset fields take the node's defaults.</summary>
public sealed record NewServer
{
    public required string Name { get; init; }

    /// <summary>host:port.</summary>
    public required string Address { get; init; }

    public int? Weight { get; init; }

    public bool? Backup { get; init; }

    /// <summary>The state it starts in (see <see cref="ServerStates"/>); ready when unset.</summary>
    public string? State { get; init; }
}

/// <summary>A server added: the new revision, what changed, and the server's status as it runs now.</summary>
public sealed record ServerAdded
{
    public required long Revision { get; init; }

    public IReadOnlyList<string> Changes { get; init; } = [];

    public ServerStatus? Server { get; init; }
}
