namespace Switchman.Client;

// The documents of /api/v1/services, as the client reads them. The fields every node with these endpoints sends are
// required (the source-generated reader would leave an absent one null, not at its initializer's default); the
// others are nullable, absent when the node has nothing to say.

/// <summary><c>GET /api/v1/services</c>: every configured service and its instance on each node that reported one.</summary>
public sealed record ServiceList
{
    /// <summary>The node that answered: <c>GET …/log</c> there reads its own instance's output.</summary>
    public required string Node { get; init; }

    public required IReadOnlyList<ServiceStatus> Services { get; init; }
}

/// <summary>One service: how it is placed, its backend, whether an operator stopped it, and its instances by node.</summary>
public sealed record ServiceStatus
{
    public required string Name { get; init; }

    /// <summary>clone or singleton.</summary>
    public required string Placement { get; init; }

    /// <summary>The backend whose server each instance is; null when the service is not behind the load balancer.</summary>
    public string? Backend { get; init; }

    /// <summary>Who stopped it (<c>switchman service stop</c>); null while it is meant to run.</summary>
    public string? StoppedBy { get; init; }

    /// <summary>Its instance on each node that reported one (none yet: an empty list).</summary>
    public required IReadOnlyList<ServiceInstanceStatus> Instances { get; init; }
}

/// <summary>One instance as its node last reported it.</summary>
public sealed record ServiceInstanceStatus
{
    public required string Node { get; init; }

    /// <summary>The backend server it is, on that node; null when the service has no backend.</summary>
    public string? Server { get; init; }

    /// <summary>One of <see cref="ServiceInstanceStates"/>.</summary>
    public required string State { get; init; }

    /// <summary>Its process; null while none runs.</summary>
    public int? Pid { get; init; }

    /// <summary>When its process started; null while none runs.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>Failures within the service's failure_timeout (0 after a cleanup).</summary>
    public required int Failures { get; init; }

    /// <summary>Why it failed last.</summary>
    public string? LastFailure { get; init; }

    public DateTimeOffset? LastFailureAt { get; init; }

    /// <summary>Why it is not running when it should be.</summary>
    public string? Problem { get; init; }
}

/// <summary>The answer to a service action (restart, stop, start, cleanup): the service as it is afterwards, and the steps taken.</summary>
public sealed record ServiceAction
{
    public required ServiceStatus Service { get; init; }

    /// <summary>What was done, one step a line (a rolling restart's drain, restart and return of each node).</summary>
    public required IReadOnlyList<string> Steps { get; init; }
}

/// <summary>The states of a service instance, as the API spells them.</summary>
public static class ServiceInstanceStates
{
    /// <summary>Not running, and not meant to run here now (stopped by an operator, placed elsewhere, waiting for a service it starts after).</summary>
    public const string Stopped = "stopped";

    /// <summary>Its process runs; its monitor has not passed yet.</summary>
    public const string Starting = "starting";

    /// <summary>Its process runs and its monitor passes.</summary>
    public const string Running = "running";

    /// <summary>Being stopped: SIGTERM sent, waiting for the process group to end.</summary>
    public const string Stopping = "stopping";

    /// <summary>It failed and waits for its restart (back-off).</summary>
    public const string Restarting = "restarting";

    /// <summary>It failed and is left stopped on its node until <c>switchman service cleanup</c>.</summary>
    public const string Failed = "failed";
}
