namespace Switchman.Supervisor.Processes;

/// <summary>How a service's main process ended: with an exit code, or killed by a signal (never both).</summary>
/// <param name="ExitCode">The code it exited with; null when a signal ended it.</param>
/// <param name="Signal">The signal that ended it; null when it exited.</param>
/// <param name="At">When this process saw it end.</param>
public sealed record ProcessExit(int? ExitCode, int? Signal, DateTimeOffset At)
{
    /// <summary>From a raw wait status (waitpid(2)): low 7 bits the terminating signal, else the exit code in the next byte.</summary>
    internal static ProcessExit FromWaitStatus(int status, DateTimeOffset at)
    {
        var signal = status & 0x7f;
        return signal == 0 ? new ProcessExit((status >> 8) & 0xff, null, at) : new ProcessExit(null, signal, at);
    }

    /// <summary>Whether it exited with code 0.</summary>
    public bool Succeeded => ExitCode == 0;

    /// <summary>"exited with code 3", "killed by SIGKILL": for status, events and logs.</summary>
    public string Describe() => (ExitCode, Signal) switch
    {
        (_, { } signal) => $"killed by {SignalNames.Of(signal)}",
        ({ } code, _) => $"exited with code {code}",
        // Reaped by someone else: waitpid(2) had nothing to tell.
        _ => "ended (how is unknown)",
    };
}
