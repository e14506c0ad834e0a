using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Switchman.Core.Configuration;
using Switchman.Testing;

namespace Switchman.Cluster.Tests;

/// <summary>
/// <see cref="ClusterNode.WaitForViewAsync{T}(Func{T}, TimeSpan, CancellationToken, TimeSpan?)"/>: a wait that asks its
/// question again when the view changes (or every <c>recheck</c>), and whose bounds run on the node's injected clock.
/// A node that was never started is enough: the wait does not need a cluster.
/// </summary>
public sealed class ClusterNodeWaitTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly TempDirectory _directory = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private ClusterNode _node = null!;

    public Task InitializeAsync()
    {
        _node = new ClusterNode(
            new ClusterNodeOptions
            {
                Config = new ClusterConfig { NodeId = "lb1", Listen = "127.0.0.1:1", DataDir = _directory.Combine("data") },
                Secret = "correct horse battery staple 42"u8.ToArray(),
                AdminUrl = "http://127.0.0.1:2",
            },
            NullLoggerFactory.Instance, _services.GetRequiredService<IMeterFactory>(), _time);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        await _services.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task AnAnswerAtOnce_ReturnsWithoutWaiting()
    {
        var answer = await _node.WaitForViewAsync(() => "leader", Timeout, CancellationToken.None);

        Assert.Equal("leader", answer);
    }

    [Fact]
    public async Task NoAnswer_NullOnceTheTimeoutHasPassedOnTheInjectedClock()
    {
        var asked = 0;
        var waiting = _node.WaitForViewAsync(() => { Interlocked.Increment(ref asked); return (string?)null; }, Timeout, CancellationToken.None);

        _time.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, Volatile.Read(ref asked));
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Null(await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        // Asked once more after the deadline: an answer that came with it is not thrown away.
        Assert.Equal(2, Volatile.Read(ref asked));
    }

    [Fact]
    public async Task Recheck_AsksAgainThatOften_WithoutAnEvent()
    {
        var recheck = TimeSpan.FromMilliseconds(20);
        var asked = 0;
        var waiting = _node.WaitForViewAsync(() => Interlocked.Increment(ref asked) >= 3 ? "settled" : null, Timeout, CancellationToken.None, recheck);

        // Each look advances the clock by one recheck interval: the probe is asked again with no event at all.
        await Await.AdvancingUntilAsync(_time, recheck, () => Volatile.Read(ref asked) >= 3, TimeSpan.FromSeconds(10), "the probe to be asked a third time");

        Assert.Equal("settled", await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(3, Volatile.Read(ref asked));
    }

    [Fact]
    public async Task CallerCancels_Throws()
    {
        using var cancel = new CancellationTokenSource();
        var waiting = _node.WaitForViewAsync(() => (string?)null, Timeout, cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
