namespace Switchman.Testing.Netns;

/// <summary>Runs iproute2's <c>ip</c> as a bounded child process; a failure throws with what <c>ip</c> said.</summary>
public static class IpCommand
{
    /// <summary>Each command is a few milliseconds; this bound only matters if the kernel or ip hangs.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>Runs <c>ip <paramref name="arguments"/></c> and returns its standard output.</summary>
    /// <exception cref="InvalidOperationException">ip exited with a non-zero code (the message has its standard error).</exception>
    public static async Task<IReadOnlyList<string>> RunAsync(params string[] arguments)
    {
        var result = await TryRunAsync(arguments).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'ip {string.Join(' ', arguments)}' failed with exit code {result.ExitCode}: {string.Join(" ", result.Error)}");
        }
        return result.Output;
    }

    /// <summary>Runs <c>ip <paramref name="arguments"/></c>; the caller judges the exit code.</summary>
    public static async Task<(int ExitCode, IReadOnlyList<string> Output, IReadOnlyList<string> Error)> TryRunAsync(params string[] arguments)
    {
        await using var process = ChildProcess.Start(LabPrerequisites.RequireIp(), arguments,
            new ChildProcessOptions { DisplayName = "ip " + string.Join(' ', arguments) });
        var exitCode = await process.WaitForExitAsync(Timeout).ConfigureAwait(false);
        return (exitCode, process.StandardOutputLines, process.StandardErrorLines);
    }
}
