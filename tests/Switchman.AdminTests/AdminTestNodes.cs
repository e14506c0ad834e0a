using Microsoft.Extensions.Logging;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.AdminTests;

/// <summary>How the admin tests start a <see cref="SwitchmanTestNode"/>.</summary>
internal static class AdminTestNodes
{
    /// <summary>
    /// A token from every source (hash, file, environment variable), and every log record kept down to Trace, so tests
    /// can search the logs for secrets.
    /// </summary>
    public static TestNodeOptions Options => new() { Tokens = TestTokenSources.EverySource, MinimumLogLevel = LogLevel.Trace };

    /// <summary>A node with <see cref="Options"/> in front of backend api with one demo server, a.</summary>
    public static async Task<SwitchmanTestNode> StartWithServerAAsync(DemoBackends backends, ITestOutputHelper output) =>
        await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", await backends.StartAsync("a"))), output, Options);
}
