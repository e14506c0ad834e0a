namespace Switchman.Core.Changes;

/// <summary>
/// One service instance on one node, as its node reports it: what it is doing, its process, how often it failed
/// (within the service's <c>failure_timeout</c>) and why last, and the restart (<see cref="RestartIndex"/>) and cleanup
/// (<see cref="CleanupIndex"/>) orders it has carried out, by the log index that gave them.
/// </summary>
public sealed record ServiceInstanceReport
{
    public required ServiceInstanceState State { get; init; }

    public int? Pid { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public int Failures { get; init; }

    public string? LastFailure { get; init; }

    public DateTimeOffset? LastFailureAt { get; init; }

    /// <summary>Why it is not running when it should (a failure, the threshold reached, a missing program); null otherwise.</summary>
    public string? Problem { get; init; }

    public long RestartIndex { get; init; }

    public long CleanupIndex { get; init; }

    /// <summary>The move order (a singleton moved away from this node) it has carried out.</summary>
    public long MoveIndex { get; init; }
}

public enum ServiceInstanceState
{
    /// <summary>Not running, and not meant to run here now (stopped by an operator, a singleton placed elsewhere, waiting for a service it starts after).</summary>
    Stopped,

    /// <summary>Its process runs; its monitor has not passed yet.</summary>
    Starting,

    /// <summary>Its process runs and its monitor passes.</summary>
    Running,

    /// <summary>Being stopped (SIGTERM sent, waiting for the process group to end).</summary>
    Stopping,

    /// <summary>It failed and waits for its restart (back-off).</summary>
    Restarting,

    /// <summary>It is left stopped here until a cleanup: it failed (its <c>on_fail</c> says stop or move, its failures reached the threshold, it cannot be started here), or an operator moved it away.</summary>
    Failed,
}
