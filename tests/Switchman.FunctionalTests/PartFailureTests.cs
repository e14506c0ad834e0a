using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Switchman.Admin;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.FunctionalTests;

/// <summary>
/// A part of the node that fails on its own stops the node, and the node says which and why, so that <c>switchman run</c>
/// exits 1 rather than 0 and systemd's Restart=on-failure starts it again (found by the soak: any failing background
/// service made the node exit 0, which systemd takes for a stop that was asked for).
/// </summary>
public sealed class PartFailureTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _directory = new("switchman-part-failure");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task A_part_that_fails_stops_the_node_which_names_it_and_why()
    {
        await using var node = await StartedAsync(parts => parts.AddHostedService<FailingPart>());

        using var limit = new CancellationTokenSource(Limit);
        // Nobody asks it to stop: the failure does.
        await node.WaitForShutdownAsync(limit.Token);

        Assert.False(limit.IsCancellationRequested, "the node did not stop after its part failed");
        var failure = Assert.Single(node.Failures);
        Assert.Equal(nameof(FailingPart), failure.Part);
        Assert.Equal(FailingPart.Why, failure.Error.Message);
    }

    [Fact]
    public async Task A_node_asked_to_stop_reports_no_failure()
    {
        await using var node = await StartedAsync(addParts: null);

        await node.StopAsync();

        Assert.Empty(node.Failures);
    }

    private async Task<NodeHost> StartedAsync(Action<IServiceCollection>? addParts)
    {
        var file = _directory.WriteFile("switchman.yaml", TestConfig.NodeWithoutLiveServer);
        var loaded = ConfigLoader.LoadFile(file);
        Assert.True(loaded.IsValid, string.Join("\n", loaded.Errors));
        var node = NodeHost.Create(loaded.Config!, file, logging => logging.AddProvider(new TestOutputLoggerProvider(output)), addParts: addParts);
        await node.StartAsync();
        return node;
    }

    /// <summary>Fails a moment after the node started, as a bug or an unexpected error in a background loop would.</summary>
    private sealed class FailingPart : BackgroundService
    {
        public const string Why = "the disk is full";

        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), stoppingToken);
            throw new IOException(Why);
        }
    }
}
