using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Tests;

/// <summary>Waiting for a server or backend to have no request in flight: no polling, no missed wake-up.</summary>
public sealed class InFlightCounterTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task An_idle_counter_is_idle_at_once_and_a_busy_one_when_its_last_request_ends()
    {
        var counter = new InFlightCounter();
        await counter.WhenIdleAsync(CancellationToken.None).WaitAsync(Limit);

        counter.Enter();
        counter.Enter();
        var idle = counter.WhenIdleAsync(CancellationToken.None);
        counter.Exit();
        await Task.Delay(50);
        Assert.False(idle.IsCompleted);

        counter.Exit();
        await idle.WaitAsync(Limit);
        Assert.Equal(0, counter.Count);
    }

    [Fact]
    public async Task A_wait_can_be_cancelled_and_the_counter_still_wakes_the_next_one()
    {
        var counter = new InFlightCounter();
        counter.Enter();
        using var cancel = new CancellationTokenSource();
        var cancelled = counter.WhenIdleAsync(cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Limit));
        var next = counter.WhenIdleAsync(CancellationToken.None);
        counter.Exit();
        await next.WaitAsync(Limit);
    }

    [Fact]
    public async Task Many_requests_ending_on_other_threads_while_waiting_never_lose_the_wake_up()
    {
        for (var round = 0; round < 200; round++)
        {
            var counter = new InFlightCounter();
            const int requests = 8;
            for (var i = 0; i < requests; i++)
            {
                counter.Enter();
            }
            var ending = Enumerable.Range(0, requests).Select(_ => Task.Run(counter.Exit)).ToArray();
            await counter.WhenIdleAsync(CancellationToken.None).WaitAsync(Limit);
            await Task.WhenAll(ending);
            Assert.Equal(0, counter.Count);
        }
    }
}
