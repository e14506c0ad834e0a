namespace Switchman.Testing;

/// <summary>
/// The real <c>switchman</c> executable, as built next to the test assembly. A test project gets it there by referencing
/// src/Switchman/Switchman.csproj.
/// </summary>
public static class SwitchmanExecutable
{
    /// <summary>Full path of switchman.dll beside the running tests.</summary>
    public static string DllPath { get; } = Path.Combine(AppContext.BaseDirectory, "switchman.dll");

    /// <summary>Starts <c>dotnet switchman.dll &lt;arguments&gt;</c>, e.g. <c>["run", "-c", configPath]</c>.</summary>
    /// <exception cref="FileNotFoundException">switchman.dll is not beside the tests (the test project lacks the reference).</exception>
    public static ChildProcess Start(IEnumerable<string> arguments, ChildProcessOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        if (!File.Exists(DllPath))
        {
            throw new FileNotFoundException(
                $"switchman.dll is not beside the tests in {AppContext.BaseDirectory}; add " +
                "<ProjectReference Include=\"../../src/Switchman/Switchman.csproj\" /> to the test project.",
                DllPath);
        }
        var argumentList = arguments.ToList();
        options ??= new ChildProcessOptions();
        options = options with { DisplayName = options.DisplayName ?? string.Join(' ', ["switchman", .. argumentList]) };
        return ChildProcess.Start(DotNetHost.Path, [DllPath, .. argumentList], options);
    }

    /// <inheritdoc cref="Start(IEnumerable{string}, ChildProcessOptions?)"/>
    public static ChildProcess Start(params string[] arguments) => Start(arguments, options: null);
}
