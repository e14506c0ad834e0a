using System.Globalization;
using System.Text.RegularExpressions;

namespace Switchman.Core.Configuration;

/// <summary>
/// What <c>{name}</c> stands for in a service's command, environment, server and monitor on one node: the one shared
/// definition runs on every node, and each instance needs its own node id or the address its server has in the
/// backend (on loopback test rigs, a port per node). Filled once per instance; an unknown placeholder is a
/// configuration error, never left in the text.
/// </summary>
public sealed partial record ServicePlaceholders(string Node, HostPort? ServerAddress, string SwitchmanPath)
{
    /// <summary>Every placeholder, in the order the reference documents them.</summary>
    public static readonly IReadOnlyList<string> Names = ["node", "server_address", "server_host", "server_port", "switchman"];

    /// <summary>The placeholders that need the instance's server (a service with a <c>backend</c>).</summary>
    public static readonly IReadOnlyList<string> ServerNames = ["server_address", "server_host", "server_port"];

    /// <summary>The placeholders used in <paramref name="text"/>, in order, known or not.</summary>
    public static IEnumerable<string> Used(string text) => Placeholder().Matches(text ?? "").Select(m => m.Groups[1].Value);

    public string Fill(string text) => Placeholder().Replace(text ?? "", match => match.Groups[1].Value switch
    {
        "node" => Node,
        "server_address" => ServerAddress?.ToString() ?? match.Value,
        "server_host" => ServerAddress?.Host ?? match.Value,
        "server_port" => ServerAddress?.Port.ToString(CultureInfo.InvariantCulture) ?? match.Value,
        "switchman" => SwitchmanPath,
        _ => match.Value,
    });

    [GeneratedRegex(@"\{([a-z_]+)\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();
}
