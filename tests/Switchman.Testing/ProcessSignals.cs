using System.ComponentModel;

namespace Switchman.Testing;

/// <summary>
/// Signals to a process a test knows only by its PID: one that is not its own child, such as the service a stand-in
/// service manager started. Always by PID, never by name.
/// </summary>
public static class ProcessSignals
{
    /// <summary>SIGTERM to <paramref name="pid"/>, as a service manager stops its service.</summary>
    /// <exception cref="InvalidOperationException">kill(2) failed (no such process, or not allowed).</exception>
    public static void Terminate(int pid)
    {
        if (NativeMethods.Kill(pid, NativeMethods.SigTerm) != 0)
        {
            var error = new Win32Exception();
            throw new InvalidOperationException($"Could not send SIGTERM to pid {pid}: {error.Message}", error);
        }
    }
}
