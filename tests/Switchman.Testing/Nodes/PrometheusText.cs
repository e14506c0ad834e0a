using System.Globalization;

namespace Switchman.Testing;

/// <summary>Reads samples out of a node's <c>/metrics</c> (Prometheus text format).</summary>
public static class PrometheusText
{
    /// <summary>
    /// The sum of the samples of metric <paramref name="name"/> that carry every one of <paramref name="labels"/>, e.g.
    /// <c>Sum(text, "switchman_proxy_retries_total", ("server", "a"))</c>; 0 when there is none.
    /// </summary>
    public static double Sum(string metrics, string name, params (string Label, string Value)[] labels)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        return metrics.Split('\n')
            .Where(line => line.StartsWith(name + "{", StringComparison.Ordinal))
            .Where(line => labels.All(l => line.Contains($"{l.Label}=\"{l.Value}\"", StringComparison.Ordinal)))
            .Sum(Value);
    }

    /// <summary>
    /// The sum of every sample of the family <paramref name="name"/> (with or without labels, and its _total, _count…
    /// series), e.g. <c>switchman_cluster_refused_connections</c>; 0 when the node exports none yet.
    /// </summary>
    public static double SumFamily(string metrics, string name)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        return metrics.Split('\n')
            .Where(line => line.StartsWith(name, StringComparison.Ordinal) && line.Length > name.Length && line[name.Length] is ' ' or '{' or '_')
            .Sum(Value);
    }

    private static double Value(string line) => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
}
