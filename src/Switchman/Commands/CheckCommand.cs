using System.CommandLine;

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
            if (ConfigFile.LoadOrReport(path, parseResult.InvocationConfiguration.Error, checkHost: true) is not { } loaded)
            {
                return ExitCodes.Invalid;
            }
            parseResult.InvocationConfiguration.Output.WriteLine($"{path}: configuration is valid ({loaded.Frontends.Count} frontends, {loaded.Backends.Count} backends{(loaded.Services.Count > 0 ? $", {loaded.Services.Count} services" : "")})");
            return ExitCodes.Ok;
        });
        return command;
    }
}
