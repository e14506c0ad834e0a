namespace Switchman.Client;

/// <summary>The JSON body of an error answer: <c>{"error": "...", ...}</c>, with details for 409 and 422.</summary>
public sealed record ApiError
{
    public string Error { get; init; } = "";

    /// <summary>409: the revision the node is at now.</summary>
    public long? CurrentRevision { get; init; }

    /// <summary>409: the revision the request was based on.</summary>
    public long? ExpectedRevision { get; init; }

    /// <summary>422: every validation error.</summary>
    public IReadOnlyList<ApiValidationError> Errors { get; init; } = [];

    /// <summary>404: the backends that do exist.</summary>
    public IReadOnlyList<string>? Backends { get; init; }

    /// <summary>404: the servers that do exist in the backend.</summary>
    public IReadOnlyList<string>? Servers { get; init; }

    /// <summary>409 on a server's removal: requests still in flight when the wait ended.</summary>
    public int? InFlight { get; init; }

    /// <summary>404 for a node: the node names that do exist.</summary>
    public IReadOnlyList<string>? Nodes { get; init; }

    /// <summary>409 when a rolling restart stopped: the steps it took up to where it stopped, one a line.</summary>
    public IReadOnlyList<string>? Steps { get; init; }
}

/// <summary>One validation error of a refused configuration.</summary>
public sealed record ApiValidationError
{
    /// <summary>The file the error is in when the node knows it (a reload reads the node's own file); null for a request body.</summary>
    public string? File { get; init; }

    /// <summary>Field path such as <c>backends.api.health.rise</c>; empty for a syntax error.</summary>
    public string Path { get; init; } = "";

    /// <summary>1-based line in the YAML that was sent, 0 when unknown (JSON bodies, or errors not tied to a line).</summary>
    public int Line { get; init; }

    public int Column { get; init; }

    public string Message { get; init; } = "";
}
