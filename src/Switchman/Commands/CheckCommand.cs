using System.CommandLine;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;

namespace Switchman.Commands;

/// <summary><c>switchman check -c FILE</c>: validate only, like <c>haproxy -c</c>. Exit 0 when valid, 1 otherwise.</summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var command = new Command("check", "Validate a configuration file and print every error with file, line, column and field.")
        {
            config,
        };
        command.SetAction(parseResult =>
        {
            var path = parseResult.GetValue(config)!;
            var result = ConfigLoader.LoadFile(path);
            if (!result.IsValid)
            {
                ConfigErrorPrinter.Print(result.Errors, parseResult.InvocationConfiguration.Error);
                return ExitCodes.Invalid;
            }
            parseResult.InvocationConfiguration.Output.WriteLine($"{path}: configuration is valid ({result.Config!.Frontends.Count} frontends, {result.Config.Backends.Count} backends)");
            return ExitCodes.Ok;
        });
        return command;
    }
}
