using System.Globalization;
using System.Text.RegularExpressions;

namespace Switchman.Testing.Netns;

/// <summary>
/// How lab namespaces are named: <c>swl-&lt;pid&gt;-&lt;n&gt;-&lt;role&gt;</c>, e.g. <c>swl-4242-1-n1</c>. The PID of
/// the process that made it tells a leftover of a crashed run (its owner is dead) from a lab in use; the counter
/// keeps two labs of one process apart. Interface names live inside the lab's own namespaces, so they can be short
/// and fixed (br0, p-n1, eth0) and never collide with anything on the machine.
/// </summary>
internal static partial class LabNames
{
    public const string Prefix = "swl-";

    /// <summary>Where <c>ip netns add</c> mounts named namespaces.</summary>
    public const string NamespaceDirectory = "/run/netns";

    private static int s_counter;

    /// <summary>A lab id unique in this run of this process, e.g. swl-4242-3.</summary>
    public static string NewLabId() =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}{Environment.ProcessId}-{Interlocked.Increment(ref s_counter)}");

    /// <summary>The names of every named network namespace on the machine.</summary>
    public static IReadOnlyList<string> ExistingNamespaces() =>
        Directory.Exists(NamespaceDirectory)
            ? [.. Directory.EnumerateFiles(NamespaceDirectory).Select(path => Path.GetFileName(path)!)]
            : [];

    /// <summary>The PID that created <paramref name="namespaceName"/>, when it is a lab namespace.</summary>
    public static bool TryGetOwner(string namespaceName, out int pid)
    {
        var match = LabNamespace().Match(namespaceName);
        pid = match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        return match.Success;
    }

    [GeneratedRegex(@"^swl-(\d{1,9})-\d+-[a-z0-9]+$")]
    private static partial Regex LabNamespace();
}
