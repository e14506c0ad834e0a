namespace Switchman.Testing.Netns;

/// <summary>What a <see cref="NetworkLab"/> needs from the machine: root (namespaces, links, setns) and iproute2's <c>ip</c>.</summary>
public static class LabPrerequisites
{
    /// <summary>Where <c>ip</c> is looked for besides PATH: test runners often start with a PATH without the sbin directories.</summary>
    private static readonly string[] SbinDirectories = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

    private static readonly Lazy<string?> LocatedIp = new(() => Locate("ip"));

    private static readonly Lazy<string?> LocatedTc = new(() => Locate("tc"));

    /// <summary>The full path of <c>ip</c>, or null when it is not installed.</summary>
    public static string? IpPath => LocatedIp.Value;

    /// <summary>The full path of <c>ip</c>.</summary>
    /// <exception cref="NetworkLabUnavailableException">It is not installed.</exception>
    public static string RequireIp() =>
        IpPath ?? throw new NetworkLabUnavailableException(Describe(Missing(isRoot: true, ipPath: null)));

    /// <summary>The full path of iproute2's <c>tc</c> (traffic control: delay and loss with netem).</summary>
    /// <exception cref="NetworkLabUnavailableException">It is not installed.</exception>
    public static string RequireTc() =>
        LocatedTc.Value ?? throw new NetworkLabUnavailableException(
            $"Network impairments need iproute2's 'tc': not found in PATH nor in {string.Join(", ", SbinDirectories)} (apt-get install iproute2).");

    /// <summary>Fails, naming everything missing, unless this process runs as root and <c>ip</c> is installed.</summary>
    /// <exception cref="NetworkLabUnavailableException">Something is missing.</exception>
    public static void Check()
    {
        var missing = Missing(Environment.IsPrivilegedProcess, IpPath);
        if (missing.Count > 0)
        {
            throw new NetworkLabUnavailableException(Describe(missing));
        }
    }

    /// <summary>What is missing, one sentence each; empty when the lab can be built.</summary>
    public static IReadOnlyList<string> Missing(bool isRoot, string? ipPath)
    {
        var missing = new List<string>();
        if (!isRoot)
        {
            missing.Add("root: creating network namespaces, veth pairs and bridges needs CAP_NET_ADMIN and CAP_SYS_ADMIN (run the tests as root, as CI does)");
        }
        if (ipPath is null)
        {
            missing.Add($"iproute2's 'ip' command: not found in PATH nor in {string.Join(", ", SbinDirectories)} (apt-get install iproute2)");
        }
        return missing;
    }

    private static string Describe(IReadOnlyList<string> missing)
    {
        var ci = Environment.GetEnvironmentVariable("CI") is "true" or "1" ? " (CI=true)" : "";
        return $"Network namespace tests cannot run on this machine{ci}; missing: {string.Join("; ", missing)}.";
    }

    private static string? Locate(string program)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(SbinDirectories)
            .Select(directory => Path.Combine(directory, program))
            .FirstOrDefault(File.Exists);
    }
}
