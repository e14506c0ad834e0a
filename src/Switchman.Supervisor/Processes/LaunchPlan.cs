using System.Collections;
using System.Globalization;

namespace Switchman.Supervisor.Processes;

/// <summary>
/// A <see cref="ProcessSpec"/> checked and resolved into what is handed to the kernel: the absolute executable, the full
/// argv (through <c>setpriv</c> when it runs as another user), the whole environment and the directory. Every check that
/// can be made before starting is made here, so an operator reads "executable 'foo' not found in PATH (…)" rather than
/// a service that exits with code 127.
/// </summary>
internal sealed record LaunchPlan(string Executable, IReadOnlyList<string> Argv, IReadOnlyList<string> Environment, string WorkingDirectory)
{
    /// <summary>util-linux's setpriv: changes uid, gid and groups, then execs, so the PID stays the service's.</summary>
    internal const string SetPriv = "/usr/bin/setpriv";

    /// <exception cref="ServiceStartException">What prevents the start, in one line.</exception>
    public static LaunchPlan Resolve(ProcessSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Argv.Count == 0 || string.IsNullOrEmpty(spec.Argv[0]))
        {
            throw new ServiceStartException($"service {spec.Name} has no command to run");
        }
        var directory = spec.WorkingDirectory ?? System.Environment.CurrentDirectory;
        if (!Directory.Exists(directory))
        {
            throw new ServiceStartException($"working directory {directory} does not exist");
        }
        var environment = MergedEnvironment(spec.Environment);
        var executable = FindExecutable(spec.Argv[0], directory, environment.GetValueOrDefault("PATH") ?? "");
        var argv = new List<string>();
        if (spec.User is { } user)
        {
            var account = UserAccount.Find(user) ?? throw new ServiceStartException($"user {user} does not exist on this host");
            if (!File.Exists(SetPriv))
            {
                throw new ServiceStartException($"{SetPriv} (util-linux) is missing; it is needed to run as user {user}");
            }
            argv.AddRange([
                SetPriv,
                "--reuid=" + account.Uid.ToString(CultureInfo.InvariantCulture),
                "--regid=" + account.Gid.ToString(CultureInfo.InvariantCulture),
                "--init-groups",
                "--",
            ]);
        }
        // argv[0] is the resolved path: setpriv execs it as given, and a PATH lookup already happened here.
        argv.Add(executable);
        argv.AddRange(spec.Argv.Skip(1));
        return new LaunchPlan(
            argv[0],
            argv,
            [.. environment.Select(pair => pair.Key + "=" + pair.Value)],
            directory);
    }

    private static SortedDictionary<string, string> MergedEnvironment(IReadOnlyDictionary<string, string> added)
    {
        var merged = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            merged[(string)entry.Key] = (string?)entry.Value ?? "";
        }
        foreach (var (name, value) in added)
        {
            merged[name] = value;
        }
        return merged;
    }

    /// <summary>As execvp(3) would find it: a name with '/' as a path (relative to the working directory), otherwise the first executable of that name in PATH.</summary>
    private static string FindExecutable(string command, string directory, string path)
    {
        if (command.Contains('/', StringComparison.Ordinal))
        {
            var full = Path.GetFullPath(command, directory);
            if (!File.Exists(full))
            {
                throw new ServiceStartException($"executable {full} not found");
            }
            return IsExecutable(full) ? full : throw new ServiceStartException($"{full} is not executable");
        }
        string? notExecutable = null;
        foreach (var entry in path.Split(':'))
        {
            var candidate = Path.GetFullPath(Path.Combine(entry.Length == 0 ? "." : entry, command), directory);
            if (!File.Exists(candidate))
            {
                continue;
            }
            if (IsExecutable(candidate))
            {
                return candidate;
            }
            notExecutable ??= candidate;
        }
        throw new ServiceStartException(notExecutable is null
            ? $"executable {command} not found in PATH ({path})"
            : $"{notExecutable} is not executable");
    }

    /// <summary>access(2) with X_OK, as this process (for root: any execute bit set).</summary>
    private static bool IsExecutable(string file) => NativeMethods.Access(file, NativeMethods.ExecuteOk) == 0;
}
