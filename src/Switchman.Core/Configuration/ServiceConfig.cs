namespace Switchman.Core.Configuration;

/// <summary>
/// A service process Switchman supervises (Pacemaker's primitive or clone resource): how to run it, where, how to tell
/// that it works, what to do when it fails, and which load-balancer server it is, so that a planned restart drains that
/// server first. Part of the shared configuration; YAML <c>services:</c> is a map keyed by name.
/// </summary>
public sealed record ServiceConfig
{
    public required string Name { get; init; }

    /// <summary>
    /// The program and its arguments (argv, no shell). Each item may use the placeholders of
    /// <see cref="ServicePlaceholders"/>: <c>{node}</c>, <c>{server_address}</c>, <c>{server_host}</c>, <c>{server_port}</c>,
    /// <c>{switchman}</c>.
    /// </summary>
    public ValueList<string> Command { get; init; } = ValueList<string>.Empty;

    /// <summary>Added to the environment Switchman itself runs with; values may use the placeholders.</summary>
    public ValueList<ServiceEnvironmentVariable> Env { get; init; } = ValueList<ServiceEnvironmentVariable>.Empty;

    /// <summary>Where the process starts; null: Switchman's data directory for the service.</summary>
    public string? WorkingDir { get; init; }

    /// <summary>Runs as this user (and its groups); null: as Switchman's own user.</summary>
    public string? User { get; init; }

    public ServicePlacement Placement { get; init; } = ServicePlacement.Clone;

    /// <summary>
    /// A clone runs on these nodes only (empty: every load-balancer node); a singleton prefers them in this order
    /// (empty: any load-balancer node).
    /// </summary>
    public ValueList<string> Nodes { get; init; } = ValueList<string>.Empty;

    public ServiceMonitorConfig Monitor { get; init; } = new();

    /// <summary>The backend whose server this service's instance on a node is; null: not behind the load balancer.</summary>
    public string? Backend { get; init; }

    /// <summary>The name of that server, with placeholders: by default the node's id (<c>{node}</c>).</summary>
    public string Server { get; init; } = "{node}";

    public ServiceOnFail OnFail { get; init; } = ServiceOnFail.Restart;

    /// <summary>Failures on one node (within <see cref="FailureTimeout"/>) after which it stops trying there.</summary>
    public int MigrationThreshold { get; init; } = 3;

    /// <summary>How long a failure counts; zero: for ever (until <c>switchman service cleanup</c>).</summary>
    public TimeSpan FailureTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a started instance has to pass its monitor for the first time before that counts as a failure.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a stop waits after SIGTERM before it sends SIGKILL to the whole process group.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Services on the same node that must be running before this one starts (and stop after it).</summary>
    public ValueList<string> After { get; init; } = ValueList<string>.Empty;

    /// <summary>A singleton runs where this VIP is held (and nowhere while nobody holds it).</summary>
    public string? WithVip { get; init; }

    /// <summary>Whether an instance of this service may run on <paramref name="node"/>: a clone on its nodes (all when none are listed), a singleton anywhere.</summary>
    public bool RunsOn(string node) => Placement == ServicePlacement.Singleton || Nodes.Count == 0 || Nodes.Contains(node);

    /// <summary>The server this service's instance on <paramref name="node"/> is, with its placeholders filled.</summary>
    public string ServerFor(string node) => Server.Replace("{node}", node, StringComparison.Ordinal);

    /// <summary>
    /// The settings its process is started from (command, env, working_dir, user) that differ in <paramref name="other"/>:
    /// a change of any of them restarts the service's instances; any other change applies to the running ones. The
    /// supervisor and the configuration diff both decide by this list.
    /// </summary>
    public IReadOnlyList<string> ProcessSettingsChangedIn(ServiceConfig other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var changed = new List<string>();
        if (Command != other.Command)
        {
            changed.Add("command");
        }
        if (Env != other.Env)
        {
            changed.Add("env");
        }
        if (WorkingDir != other.WorkingDir)
        {
            changed.Add("working_dir");
        }
        if (User != other.User)
        {
            changed.Add("user");
        }
        return changed;
    }

    /// <summary>This service with the process settings of <paramref name="other"/>: what is left to differ is what applies without a restart.</summary>
    public ServiceConfig WithProcessSettingsOf(ServiceConfig other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return this with { Command = other.Command, Env = other.Env, WorkingDir = other.WorkingDir, User = other.User };
    }
}

public enum ServicePlacement
{
    /// <summary>One instance on every load-balancer node (or on <c>nodes</c>).</summary>
    Clone,

    /// <summary>Exactly one instance in the cluster, placed by the leader and moved on failure.</summary>
    Singleton,
}

public enum ServiceOnFail
{
    /// <summary>Restart it where it is; after <c>migration_threshold</c> failures a singleton moves, a clone stays stopped there.</summary>
    Restart,

    /// <summary>A singleton moves to another node at the first failure (a clone: as <see cref="Restart"/>).</summary>
    Move,

    /// <summary>Leave it stopped (failed) until <c>switchman service cleanup</c>.</summary>
    Stop,
}

public sealed record ServiceEnvironmentVariable
{
    public required string Name { get; init; }

    public required string Value { get; init; }
}

/// <summary>
/// How the supervisor tells that an instance works. Always: its process is alive. Optionally also an HTTP GET whose
/// status is 2xx or 3xx (<c>http: URL</c>), or a TCP connect (<c>tcp: host:port</c>), every <see cref="Interval"/>,
/// each given <see cref="Timeout"/>. A failed check is a failure of the instance, as a failed monitor operation is in
/// Pacemaker.
/// </summary>
public sealed record ServiceMonitorConfig
{
    public ServiceMonitorType Type { get; init; } = ServiceMonitorType.Process;

    /// <summary>The URL (<see cref="ServiceMonitorType.Http"/>) or host:port (<see cref="ServiceMonitorType.Tcp"/>), with placeholders; null for a process check.</summary>
    public string? Target { get; init; }

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);
}

public enum ServiceMonitorType
{
    Process,
    Http,
    Tcp,
}
