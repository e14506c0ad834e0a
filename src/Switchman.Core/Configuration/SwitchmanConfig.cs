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

    /// <summary>Floating virtual IP addresses, each held by one node at a time.</summary>
    public ValueList<VipConfig> Vips { get; init; } = ValueList<VipConfig>.Empty;

    /// <summary>Service processes the nodes supervise (clones and singletons).</summary>
    public ValueList<ServiceConfig> Services { get; init; } = ValueList<ServiceConfig>.Empty;

    /// <summary>This node's own interface for some VIPs (node-local, like <c>admin</c>): <c>vip_interfaces: { api: ens3 }</c>.</summary>
    public ValueList<VipInterfaceConfig> VipInterfaces { get; init; } = ValueList<VipInterfaceConfig>.Empty;

    /// <summary>The interface this node puts <paramref name="vip"/> on: its own override, else the VIP's.</summary>
    public string InterfaceFor(VipConfig vip)
    {
        ArgumentNullException.ThrowIfNull(vip);
        foreach (var local in VipInterfaces)
        {
            if (local.Vip == vip.Name)
            {
                return local.Interface;
            }
        }
        return vip.Interface;
    }

    /// <summary>Membership in a cluster of nodes; null: the node runs alone.</summary>
    public ClusterConfig? Cluster { get; init; }

    /// <summary>
    /// Where a node alone keeps its change log, so that what the admin API changed (servers added or removed, states
    /// and weights) survives a restart; absolute once loaded. Null: the log is kept in memory only. A cluster member
    /// keeps its log in <c>cluster.data_dir</c> instead. Node-local, like <c>admin</c>.
    /// </summary>
    public string? DataDir { get; init; }

    public ServiceConfig? FindService(string name)
    {
        foreach (var service in Services)
        {
            if (service.Name == name)
            {
                return service;
            }
        }
        return null;
    }

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

/// <summary>The admin listener: health, readiness, metrics and the admin API.</summary>
public sealed record AdminConfig
{
    /// <summary>address:port; loopback unless the operator says otherwise.</summary>
    public string Listen { get; init; } = "127.0.0.1:9090";

    /// <summary>Bearer tokens allowed on the admin API. None: the API refuses every request (secure by default).</summary>
    public ValueList<AdminTokenConfig> Tokens { get; init; } = ValueList<AdminTokenConfig>.Empty;

    /// <summary>HTTPS on the admin listener; absent means plain HTTP (fine on loopback).</summary>
    public AdminTlsConfig? Tls { get; init; }
}

/// <summary>
/// One admin API token: who holds it, what it may do, and where its secret is. The record never holds the secret
/// itself, only its SHA-256 or where to read it (a file or an environment variable), so a configuration can be shown,
/// logged and diffed without leaking a token. Exactly one of <see cref="Sha256"/>, <see cref="File"/> and
/// <see cref="Env"/> is set.
/// </summary>
public sealed record AdminTokenConfig
{
    /// <summary>Who holds the token; the author of changes made with it in events and logs.</summary>
    public required string Name { get; init; }

    public required AdminRole Role { get; init; }

    /// <summary>Hex SHA-256 of the token (<c>printf %s "$TOKEN" | sha256sum</c>).</summary>
    public string? Sha256 { get; init; }

    /// <summary>A file holding the token (surrounding white space is ignored); absolute once loaded.</summary>
    public string? File { get; init; }

    /// <summary>An environment variable holding the token.</summary>
    public string? Env { get; init; }
}

public enum AdminRole
{
    /// <summary>GET requests: status, configuration, events, the OpenAPI document.</summary>
    Read,

    /// <summary>Everything, including changes.</summary>
    Admin,
}

/// <summary>
/// The admin listener's certificate and key (PEM files; absolute once loaded; re-read when they change on disk), and
/// what it trusts.
/// </summary>
public sealed record AdminTlsConfig
{
    public required string Cert { get; init; }

    public required string Key { get; init; }

    /// <summary>
    /// The CA (PEM) that issues the nodes' admin certificates: node-to-node calls (forwarded changes, status fan-out)
    /// accept a peer whose certificate chains to it, and, with <see cref="ClientCertificates"/> required, clients must
    /// present a certificate it issued. Null: node-to-node calls trust <c>cluster.tls.ca</c>, else the system's roots.
    /// </summary>
    public string? Ca { get; init; }

    public AdminClientCertificates ClientCertificates { get; init; } = AdminClientCertificates.None;
}

/// <summary>Whether the admin listener asks clients for a certificate (on top of the bearer token).</summary>
public enum AdminClientCertificates
{
    /// <summary>No client certificate is asked for: the bearer token is the credential.</summary>
    None,

    /// <summary>A client without a certificate issued by <see cref="AdminTlsConfig.Ca"/> is refused during the TLS handshake.</summary>
    Required,
}

/// <summary>Where the access log goes: <c>stdout</c>, a file path, or nowhere when absent.</summary>
public sealed record AccessLogConfig
{
    public string? Path { get; init; }

    /// <summary>Whether lines carry the request's query string (<c>?name=admin</c>); false keeps it out, for privacy.</summary>
    public bool Query { get; init; } = true;
}
