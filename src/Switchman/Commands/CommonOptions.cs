using System.CommandLine;
using Switchman.Core.Configuration;

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

internal static class ConfigErrorPrinter
{
    public static void Print(IReadOnlyList<ConfigError> errors, TextWriter writer)
    {
        foreach (var error in errors)
        {
            writer.WriteLine(error.ToString());
        }
        writer.WriteLine($"{errors.Count} error{(errors.Count == 1 ? "" : "s")}: configuration refused");
    }
}
