namespace Switchman.Core.Configuration.Validation;

/// <summary>
/// What only this node can tell about its services: that each command's program exists here and may be run, that its
/// working directory exists, that its user exists. Asked by <c>switchman check</c> and by the node a change is sent to
/// (a 422 before anything is stored); not by a node applying a committed change, for which a missing program is a
/// failed instance of that one service, shown in status, while everything else keeps running.
/// </summary>
public static class ServiceHostChecks
{
    /// <summary>The problems of every service this node would run, with the field each one is about.</summary>
    public static IReadOnlyList<ConfigError> Check(SwitchmanConfig config, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(config);
        var errors = new ConfigErrorCollector(new ConfigSourceMap(sourceName));
        Check(config, errors);
        return errors.ToList();
    }

    internal static void Check(SwitchmanConfig config, ConfigErrorCollector errors)
    {
        if (config.Cluster?.Role == ClusterRole.Witness)
        {
            return;
        }
        var node = NodeIdentity.Of(config);
        var placeholders = new ServicePlaceholders(node, null, SwitchmanPath);
        foreach (var service in config.Services.Where(s => s.RunsOn(node)))
        {
            var path = ConfigPath.Child("services", service.Name);
            if (ServerProblem(service, config, node) is { } serverProblem)
            {
                errors.AddUnlessFailed(ConfigPath.Child(path, "server"), serverProblem);
            }
            if (service.Command.Count > 0 && service.Command[0].Length > 0 && ProgramProblem(placeholders.Fill(service.Command[0])) is { } problem)
            {
                errors.AddUnlessFailed(ConfigPath.Item(ConfigPath.Child(path, "command"), 0), problem);
            }
            if (service.WorkingDir is { Length: > 0 } directory && !Directory.Exists(directory))
            {
                errors.AddUnlessFailed(ConfigPath.Child(path, "working_dir"), $"directory '{directory}' does not exist on this node");
            }
            if (service.User is { Length: > 0 } user && !UserExists(user))
            {
                errors.AddUnlessFailed(ConfigPath.Child(path, "user"), $"user '{user}' does not exist on this node");
            }
        }
    }

    /// <summary>Why the instance of <paramref name="service"/> on <paramref name="node"/> has no server in its backend; null when it has one (or needs none).</summary>
    public static string? ServerProblem(ServiceConfig service, SwitchmanConfig config, string node)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(config);
        if (service.Backend is not { } name || config.FindBackend(name) is not { } backend)
        {
            return null;
        }
        var server = service.ServerFor(node);
        return backend.Servers.Any(s => s.Name == server)
            ? null
            : $"backend '{name}' has no server '{server}' for the instance on node '{node}'; servers: {string.Join(", ", backend.Servers.Select(s => s.Name))}";
    }

    /// <summary>
    /// This program, for <c>{switchman}</c>: the <c>switchman</c> executable beside the running application (also when it
    /// was started as <c>dotnet switchman.dll</c>, whose process is <c>dotnet</c>), else the running process.
    /// </summary>
    public static string SwitchmanPath { get; } =
        Path.Combine(AppContext.BaseDirectory, "switchman") is var beside && File.Exists(beside) ? beside : Environment.ProcessPath ?? "switchman";

    /// <summary>Why <paramref name="program"/> cannot be run on this node; null when it can.</summary>
    public static string? ProgramProblem(string program)
    {
        ArgumentNullException.ThrowIfNull(program);
        var resolved = ResolveProgram(program);
        if (resolved is null)
        {
            return program.Contains('/', StringComparison.Ordinal)
                ? $"program '{program}' does not exist on this node"
                : $"program '{program}' is not found in PATH on this node";
        }
        if (Directory.Exists(resolved))
        {
            return $"'{resolved}' is a directory, not a program";
        }
        const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        return OperatingSystem.IsWindows() || (File.GetUnixFileMode(resolved) & anyExecute) != 0
            ? null
            : $"program '{resolved}' is not executable (chmod +x)";
    }

    /// <summary>The file <paramref name="program"/> names: itself when it has a '/', else the first match in PATH.</summary>
    public static string? ResolveProgram(string program)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(program) || Directory.Exists(program) ? program : null;
        }
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries).Select(directory => Path.Combine(directory, program)).FirstOrDefault(File.Exists);
    }

    /// <summary>Looked up in <c>/etc/passwd</c> (a user only a directory service knows is reported when the instance starts).</summary>
    public static bool UserExists(string user)
    {
        ArgumentNullException.ThrowIfNull(user);
        const string passwd = "/etc/passwd";
        return !File.Exists(passwd) || File.ReadLines(passwd).Any(line => line.StartsWith(user + ":", StringComparison.Ordinal));
    }
}
