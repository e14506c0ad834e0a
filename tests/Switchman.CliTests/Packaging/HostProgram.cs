using Switchman.Testing;

namespace Switchman.CliTests.Packaging;

/// <summary>A program of the machine the tests run on (dpkg, tar, bash), found in PATH and run to its end.</summary>
internal static class HostProgram
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromMinutes(2);

    /// <summary>The full path of <paramref name="name"/> in PATH, or null when there is none.</summary>
    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);

    /// <summary>The full path of <paramref name="name"/> in PATH.</summary>
    /// <exception cref="InvalidOperationException">It is not there; the message says which package brings it.</exception>
    public static string Require(string name, string package) =>
        Find(name) ?? throw new InvalidOperationException($"{name} is not in PATH: the packaging tests need it (Debian package {package}).");

    /// <summary>Runs <paramref name="program"/> with <paramref name="arguments"/> and returns what it did.</summary>
    public static async Task<CliResult> RunAsync(
        string program, IEnumerable<string> arguments, ChildProcessOptions? options = null, TimeSpan? timeout = null)
    {
        await using var process = ChildProcess.Start(program, arguments, options);
        var exitCode = await process.WaitForExitAsync(timeout ?? ExitTimeout);
        return new CliResult(exitCode, process.StandardOutputLines, process.StandardErrorLines);
    }

    /// <summary>Like <see cref="RunAsync"/>, and fails the test (showing the output) unless it exits 0.</summary>
    public static async Task<CliResult> RunToSuccessAsync(
        string program, IEnumerable<string> arguments, ChildProcessOptions? options = null, TimeSpan? timeout = null)
    {
        var result = await RunAsync(program, arguments, options, timeout);
        Assert.True(result.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: {result}");
        return result;
    }
}
