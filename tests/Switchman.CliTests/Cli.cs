using Switchman.Testing;

namespace Switchman.CliTests;

/// <summary>What one run of the <c>switchman</c> executable did.</summary>
internal sealed record CliResult(int ExitCode, IReadOnlyList<string> Output, IReadOnlyList<string> Error)
{
    public string StandardOutput => string.Join('\n', Output);

    public string StandardError => string.Join('\n', Error);

    /// <summary>Everything it said, for assertion messages.</summary>
    public override string ToString() => $"exit {ExitCode}\n--- stdout:\n{StandardOutput}\n--- stderr:\n{StandardError}";
}

/// <summary>Runs the real <c>switchman</c> executable, isolated from the environment of whoever runs the tests.</summary>
internal static class Cli
{
    public static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// An environment in which only what a test passes counts: no SWITCHMAN_* variables and no client configuration file
    /// from the user running the tests (XDG_CONFIG_HOME points at a folder that does not exist).
    /// </summary>
    public static Dictionary<string, string?> IsolatedEnvironment(IReadOnlyDictionary<string, string?>? extra = null)
    {
        var environment = new Dictionary<string, string?>
        {
            ["SWITCHMAN_ENDPOINT"] = null,
            ["SWITCHMAN_TOKEN"] = null,
            ["XDG_CONFIG_HOME"] = Path.Combine(Path.GetTempPath(), "switchman-cli-tests-no-such-folder"),
            // Spectre.Console would read these to decide about colours; tests check the plain form.
            ["NO_COLOR"] = null,
            ["TERM"] = null,
        };
        foreach (var (name, value) in extra ?? new Dictionary<string, string?>())
        {
            environment[name] = value;
        }
        return environment;
    }

    /// <summary>Starts switchman with <paramref name="arguments"/> and returns at once (for commands that wait or follow).</summary>
    public static ChildProcess Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null) =>
        SwitchmanExecutable.Start(arguments, new ChildProcessOptions { Environment = IsolatedEnvironment(environment) });

    /// <summary>Runs switchman with <paramref name="arguments"/> to its end.</summary>
    public static async Task<CliResult> RunAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null)
    {
        await using var process = Start(arguments, environment);
        return await WaitAsync(process);
    }

    /// <inheritdoc cref="RunAsync(IEnumerable{string}, IReadOnlyDictionary{string, string?}?)"/>
    public static Task<CliResult> RunAsync(params string[] arguments) => RunAsync(arguments, environment: null);

    /// <summary>Waits for a started switchman to exit and collects what it printed.</summary>
    public static async Task<CliResult> WaitAsync(ChildProcess process)
    {
        var exitCode = await process.WaitForExitAsync(ExitTimeout);
        return new CliResult(exitCode, process.StandardOutputLines, process.StandardErrorLines);
    }
}
