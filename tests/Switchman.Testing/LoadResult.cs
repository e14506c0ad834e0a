using System.Globalization;
using System.Text;

namespace Switchman.Testing;

/// <summary>What a load run saw. Requests cut short because the run itself was cancelled are not counted.</summary>
public sealed class LoadResult
{
    /// <summary>How many failure descriptions are kept: enough to diagnose, few enough to read in a test message.</summary>
    public const int MaxFailureDescriptions = 20;

    /// <summary>Requests that completed, successfully or not.</summary>
    public required long Total { get; init; }

    /// <summary>Requests answered with a 2xx status.</summary>
    public required long Succeeded { get; init; }

    /// <summary>Requests answered with another status, or that failed with an exception (connection refused or reset, timeout…).</summary>
    public required long Failed { get; init; }

    /// <summary>Requests that failed with an exception rather than a status.</summary>
    public required long Exceptions { get; init; }

    /// <summary>Responses per status code.</summary>
    public required IReadOnlyDictionary<int, long> StatusCounts { get; init; }

    /// <summary>
    /// Responses (of any status) per server name: the X-Server header, or else "server" in a JSON body — both set by the
    /// demo backend. Responses with neither are not counted here.
    /// </summary>
    public required IReadOnlyDictionary<string, long> ServerCounts { get; init; }

    /// <summary>The first <see cref="MaxFailureDescriptions"/> failures in request order, e.g. "#17 GET http://…/x: 502 Bad Gateway".</summary>
    public required IReadOnlyList<string> FirstFailures { get; init; }

    /// <summary>Latency of every completed request (until its body was read), ascending.</summary>
    public required IReadOnlyList<TimeSpan> Latencies { get; init; }

    /// <summary>How long the run took.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>Responses from <paramref name="server"/>, 0 if it sent none.</summary>
    public long CountFrom(string server) => ServerCounts.GetValueOrDefault(server);

    /// <summary>The latency below which <paramref name="percentile"/> percent of requests completed (nearest rank).</summary>
    public TimeSpan LatencyPercentile(double percentile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(percentile, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percentile, 100);
        if (Latencies.Count == 0)
        {
            return TimeSpan.Zero;
        }
        var rank = (int)Math.Ceiling(percentile / 100 * Latencies.Count);
        return Latencies[Math.Clamp(rank - 1, 0, Latencies.Count - 1)];
    }

    /// <summary>A summary for assertion messages: counts, statuses, servers, latencies and the first failures.</summary>
    public override string ToString()
    {
        static string Join<TKey>(IReadOnlyDictionary<TKey, long> counts) where TKey : notnull =>
            string.Join(", ", counts.OrderBy(pair => pair.Key).Select(pair => $"{pair.Key}={pair.Value}"));

        var summary = new StringBuilder()
            .Append(CultureInfo.InvariantCulture,
                $"{Total} requests in {Elapsed.TotalSeconds:0.00} s: {Succeeded} succeeded, {Failed} failed ({Exceptions} exceptions)")
            .Append(CultureInfo.InvariantCulture, $"; statuses {{{Join(StatusCounts)}}}; servers {{{Join(ServerCounts)}}}")
            .Append(CultureInfo.InvariantCulture,
                $"; latency p50 {LatencyPercentile(50).TotalMilliseconds:0.0} ms, p99 {LatencyPercentile(99).TotalMilliseconds:0.0} ms");
        if (FirstFailures.Count > 0)
        {
            summary.AppendLine().Append("first failures:");
            foreach (var failure in FirstFailures)
            {
                summary.AppendLine().Append("  ").Append(failure);
            }
        }
        return summary.ToString();
    }
}
