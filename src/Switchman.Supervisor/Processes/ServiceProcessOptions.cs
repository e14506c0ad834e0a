namespace Switchman.Supervisor.Processes;

/// <summary>The node-wide settings of how service instances are run; the defaults suit production.</summary>
public sealed record ServiceProcessOptions
{
    /// <summary>A log file that passes this size is renamed to <c>.1</c> (the one older file kept) and started afresh.</summary>
    public long LogRotationBytes { get; init; } = 10 * 1024 * 1024;

    /// <summary>
    /// Where each running instance is recorded so that a later start of this node can end what a crash left behind
    /// (<see cref="ProcessRecords.ReapLeftoversAsync"/>); null records nothing.
    /// </summary>
    public ProcessRecords? Records { get; init; }

    /// <summary>
    /// How long <see cref="ServiceProcess.Exited"/> waits, after the main process ended, for the last of its output to
    /// be written to the log. Output ends at once unless a child of the service still holds the pipes.
    /// </summary>
    public TimeSpan OutputDrainLimit { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long stopping waits for the group to vanish after SIGKILL before it reports <see cref="StopOutcome.Lingering"/>.</summary>
    public TimeSpan KillWaitLimit { get; init; } = TimeSpan.FromSeconds(5);

    public static ServiceProcessOptions Default { get; } = new();
}
