using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Xunit.Abstractions;

namespace Switchman.Testing;

/// <summary>How every fixture logs: to the test's output (so a failure shows what it saw) and into a collector kept for assertions.</summary>
public static class TestLogging
{
    /// <param name="logs">Receives every record at <paramref name="minimumLevel"/> and above, after the component's own filters.</param>
    /// <param name="output">The test's output, Information and above; null for none.</param>
    /// <param name="prefix">Put before every output line: which node it is, when a test runs several.</param>
    public static ILoggingBuilder AddTestLogs(this ILoggingBuilder logging, FakeLogCollector logs, ITestOutputHelper? output,
        string prefix = "", LogLevel minimumLevel = LogLevel.Information)
    {
        ArgumentNullException.ThrowIfNull(logging);
        logging.SetMinimumLevel(minimumLevel);
        logging.AddProvider(new FakeLoggerProvider(logs));
        if (output is not null)
        {
            logging.AddProvider(new TestOutputLoggerProvider(output, prefix));
        }
        return logging;
    }

    /// <summary>The records of one event id, e.g. 1202 (a failed attempt not retried).</summary>
    public static IReadOnlyList<FakeLogRecord> WithEventId(this FakeLogCollector logs, int eventId)
    {
        ArgumentNullException.ThrowIfNull(logs);
        return [.. logs.GetSnapshot().Where(r => r.Id.Id == eventId)];
    }

    /// <summary>Every record as one line: category, level, message and any exception text (to search for what must never be logged).</summary>
    public static IEnumerable<string> Lines(this FakeLogCollector logs)
    {
        ArgumentNullException.ThrowIfNull(logs);
        return logs.GetSnapshot().Select(r => $"{r.Category} {r.Level} {r.Message} {r.Exception}");
    }
}
