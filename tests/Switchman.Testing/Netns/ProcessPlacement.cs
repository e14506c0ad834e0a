namespace Switchman.Testing.Netns;

/// <summary>
/// Checks where a process started through <c>ip netns exec</c> runs. That command enters the namespace and then execs
/// the program, so the PID we got is the program's; this makes sure of it (the PID is not the launcher's any more, and
/// it sits in the namespace we meant), because the lab signals processes by that PID.
/// </summary>
internal static class ProcessPlacement
{
    public static async Task VerifyAsync(ChildProcess process, NetworkNamespace expected, TimeSpan timeout)
    {
        var launcher = Path.GetFileName(LabPrerequisites.RequireIp());
        // Until the exec, /proc/PID/exe is still ip itself.
        await Await.UntilAsync(
            () => process.HasExited || Executable(process.Pid) is { } exe && Path.GetFileName(exe) != launcher,
            timeout, $"{process.DisplayName} (pid {process.Pid}) to replace '{launcher} netns exec'").ConfigureAwait(false);
        if (process.HasExited)
        {
            // A short-lived program (a CLI run) may be gone already: nothing left to signal, nothing to check.
            return;
        }
        var (exitCode, output, _) = await IpCommand.TryRunAsync("netns", "identify", process.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)).ConfigureAwait(false);
        if (exitCode == 0 && !output.Any(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(expected.Name)) && !process.HasExited)
        {
            throw new InvalidOperationException(
                $"{process.DisplayName} (pid {process.Pid}) runs in network namespace '{string.Join(" ", output)}', not {expected.Name}");
        }
    }

    /// <summary>The program a process runs (<c>/proc/PID/exe</c>), or null when it cannot be read (it exited).</summary>
    public static string? Executable(int pid)
    {
        try
        {
            return File.ResolveLinkTarget($"/proc/{pid}/exe", returnFinalTarget: false)?.FullName;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
