namespace Switchman.Supervisor.Processes;

/// <summary>How <see cref="ServiceProcess.StopAsync"/> ended a service's process group.</summary>
public enum StopOutcome
{
    /// <summary>Nothing of the group was left to stop.</summary>
    AlreadyEnded,

    /// <summary>The group ended after SIGTERM, within the stop timeout.</summary>
    Terminated,

    /// <summary>The group outlived the stop timeout and was ended with SIGKILL.</summary>
    Killed,

    /// <summary>Even after SIGKILL processes of the group remain (uninterruptible sleep: a hung disk or NFS mount).</summary>
    Lingering,
}

/// <summary>The outcome of stopping a service, and how long it took (from the first signal).</summary>
public sealed record StopResult(StopOutcome Outcome, TimeSpan Elapsed)
{
    /// <summary>Whether it had to be killed (or could not even be).</summary>
    public bool Killed => Outcome is StopOutcome.Killed or StopOutcome.Lingering;

    /// <summary>"stopped by SIGTERM in 0.12 s", "killed with SIGKILL after 30.00 s": for status, events and logs.</summary>
    public string Describe() => Outcome switch
    {
        StopOutcome.AlreadyEnded => "had already ended",
        StopOutcome.Terminated => $"stopped by SIGTERM in {Elapsed.TotalSeconds:0.00} s",
        StopOutcome.Killed => $"killed with SIGKILL after {Elapsed.TotalSeconds:0.00} s",
        _ => $"still has processes {Elapsed.TotalSeconds:0.00} s after SIGKILL (uninterruptible)",
    };
}
