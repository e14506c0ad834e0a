using System.CommandLine;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;

namespace Switchman.Commands;

internal static class CommonOptions
{
    public static Option<string> Config() => new("--config", "-c")
    {
        Description = "Path to the YAML configuration file.",
        Required = true,
    };
}

internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Invalid = 1;
    public const int Unreachable = 2;
}

internal static class ConfigFile
{
    /// <summary>Loads and validates a configuration file; on any error prints every one of them and returns null.</summary>
    public static SwitchmanConfig? LoadOrReport(string path, TextWriter errorOutput)
    {
        var result = ConfigLoader.LoadFile(path);
        if (result.IsValid)
        {
            return result.Config;
        }
        PrintErrors(result.Errors, errorOutput);
        return null;
    }

    public static void PrintErrors(IReadOnlyList<ConfigError> errors, TextWriter writer)
    {
        foreach (var error in errors)
        {
            writer.WriteLine(error.ToString());
        }
        writer.WriteLine($"{errors.Count} error{(errors.Count == 1 ? "" : "s")}: configuration refused");
    }
}
