using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Switchman.Testing;

/// <summary>Sends a node's logs to the test's output, so a failing test shows what the node saw.</summary>
/// <param name="prefix">Put before every line: which node it is, when a test runs several.</param>
public sealed class TestOutputLoggerProvider(ITestOutputHelper output, string prefix = "") : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new TestOutputLogger(output, prefix + categoryName);

    public void Dispose()
    {
    }

    private sealed class TestOutputLogger(ITestOutputHelper output, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try
            {
                output.WriteLine($"{logLevel} {category}[{eventId.Id}] {formatter(state, exception)}{(exception is null ? "" : " " + exception.Message)}");
            }
            catch (InvalidOperationException)
            {
                // The test already finished; xunit refuses late output.
            }
        }
    }
}
