using System.CommandLine;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;
using Switchman.DemoBackend;

namespace Switchman.Commands;

internal static class CommonOptions
{
    public static Option<string> Config() => new("--config", "-c")
    {
        Description = "Path to the YAML configuration file.",
        Required = true,
    };

    /// <summary>
    /// An option that takes a duration as operators write it: 250ms, 30s, 2m. Null when not given: the caller applies
    /// its default (and names it in <paramref name="description"/>, since help would show a TimeSpan as 00:01:00).
    /// </summary>
    public static Option<TimeSpan?> Duration(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "DURATION",
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : null;
            if (DurationText.TryParse(text, out var duration, out var error))
            {
                return duration;
            }
            result.AddError($"{name}: {error}");
            return null;
        },
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
    public static SwitchmanConfig? LoadOrReport(string path, TextWriter errorOutput, bool checkHost = false)
    {
        var result = ConfigLoader.LoadFile(path, checkHost);
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
