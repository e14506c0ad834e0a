using Switchman.Proxy.Diagnostics;
using Switchman.Proxy.Health;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Tests;

/// <summary>A probe whose answer the test sets, and that lets the test wait until a given check has been applied.</summary>
internal sealed class ScriptedProbe(TimerCountingTimeProvider time) : IHealthProbe
{
    private readonly SemaphoreSlim _probed = new(0);

    /// <summary>What the next probes do: return a result or throw. Default: healthy.</summary>
    public Func<ProbeResult> Answer { get; set; } = () => ProbeResult.Healthy("HTTP 200");

    /// <summary>Shorthand: healthy (HTTP 200) or failing (HTTP 503).</summary>
    public bool Healthy
    {
        set => Answer = value ? () => ProbeResult.Healthy("HTTP 200") : () => ProbeResult.Failed(FailureReason.Status, "HTTP 503");
    }

    public int Count { get; private set; }

    public Task<ProbeResult> ProbeAsync(ServerRuntime server, CancellationToken cancellationToken)
    {
        Count++;
        _probed.Release();
        // Thrown from the task, as a real probe's failures are.
        try
        {
            return Task.FromResult(Answer());
        }
        catch (Exception ex)
        {
            return Task.FromException<ProbeResult>(ex);
        }
    }

    /// <summary>Waits until the probe has run <paramref name="count"/> times in total and the last result was applied.</summary>
    public async Task ProbedAsync(int count)
    {
        while (Count < count)
        {
            if (!await _probed.WaitAsync(TimeSpan.FromSeconds(10)))
            {
                throw new TimeoutException($"probe #{count} never ran (ran {Count} times)");
            }
        }
        // Each check creates two timers: its timeout, then the wait for the next check. Once the second exists the
        // result has been applied and the test may move time.
        await time.TimersCreatedAsync(2 * count);
    }
}
