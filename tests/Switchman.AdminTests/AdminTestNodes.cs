using Microsoft.Extensions.Logging;
using Switchman.Testing;

namespace Switchman.AdminTests;

/// <summary>How the admin tests start a <see cref="SwitchmanTestNode"/>.</summary>
internal static class AdminTestNodes
{
    /// <summary>
    /// A token from every source (hash, file, environment variable), and every log record kept down to Trace, so tests
    /// can search the logs for secrets.
    /// </summary>
    public static TestNodeOptions Options => new() { Tokens = TestTokenSources.EverySource, MinimumLogLevel = LogLevel.Trace };
}
