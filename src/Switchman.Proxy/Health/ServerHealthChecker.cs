using Switchman.Core.Configuration;
using Switchman.Proxy.Diagnostics;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Health;

/// <summary>
/// The active-check loop of one server: probe, apply rise/fall, wait the interval that fits the state
/// (HAProxy's inter while steady, fastinter in transition, downinter while down), repeat until stopped.
/// The loop ends only when its stopping token fires: every failure of a probe is a failed check, and any other
/// fault is logged and the next check still comes — a loop that ended would freeze the server in its last state.
/// </summary>
internal sealed class ServerHealthChecker
{
    private readonly ServerRuntime _server;
    private readonly HealthCheckConfig _config;
    private readonly IHealthProbe _probe;
    private readonly TimeProvider _time;
    private readonly ProxyDiagnostics _diagnostics;
    private readonly RiseFallCounter _counter;
    private readonly TaskCompletionSource _firstCheck = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ServerHealthChecker(ServerRuntime server, HealthCheckConfig config, IHealthProbe probe, TimeProvider time, ProxyDiagnostics diagnostics)
    {
        _server = server;
        _config = config;
        _probe = probe;
        _time = time;
        _diagnostics = diagnostics;
        _counter = new RiseFallCounter(config.Rise, config.Fall, server.IsHealthy);
    }

    /// <summary>Cancelled to end the wait for the next check early; null while a check runs.</summary>
    private CancellationTokenSource? _soon;

    /// <summary>
    /// Runs the next check now instead of at the end of the interval (the process behind the server was just
    /// restarted and answers its supervisor's monitor). A check already running is not repeated.
    /// </summary>
    public void CheckSoon()
    {
        try
        {
            Volatile.Read(ref _soon)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The wait just ended by itself.
        }
    }

    /// <summary>Completes when the first probe has finished, whatever its result.</summary>
    public Task FirstCheckCompleted => _firstCheck.Task;

    /// <summary>Checks until <paramref name="stopping"/> fires; never faults.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await CheckOnceAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Not a probe failure (those are failed checks): a fault in applying a result, e.g. a throwing
                // handler. Say so loudly, and keep checking.
                ProxyLog.HealthCheckFault(_diagnostics.Logger, _server.BackendName, _server.Name, ex);
            }
            _firstCheck.TrySetResult();
            using var soon = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            Volatile.Write(ref _soon, soon);
            try
            {
                await Task.Delay(NextInterval(), _time, soon.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (OperationCanceledException)
            {
                // CheckSoon: the next check now.
            }
            finally
            {
                Volatile.Write(ref _soon, null);
            }
        }
        _firstCheck.TrySetResult();
    }

    /// <summary>Runs one probe and applies its result. Exposed for tests that drive checks step by step.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="stopping"/> fired: the check is dropped, not counted.</exception>
    public async Task CheckOnceAsync(CancellationToken stopping)
    {
        var started = _time.GetTimestamp();
        var result = await ProbeAsync(stopping).ConfigureAwait(false);
        // A probe cut short by stopping says nothing about the server.
        stopping.ThrowIfCancellationRequested();
        Apply(result, _time.GetElapsedTime(started));
    }

    private async Task<ProbeResult> ProbeAsync(CancellationToken stopping)
    {
        using var timeout = new CancellationTokenSource(_config.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, timeout.Token);
        try
        {
            return await _probe.ProbeAsync(_server, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return ProbeResult.Failed(FailureReason.Timeout, $"timed out after {_config.Timeout.TotalMilliseconds:0} ms");
        }
        catch (Exception ex)
        {
            // Whatever else a probe throws is a failed check too, named by its reason. That includes cancellations
            // that are not ours: the backend's connect timeout surfaces as one, and once ended the loop for good.
            var (reason, detail) = FailureReasons.Classify(ex);
            return ProbeResult.Failed(reason, detail);
        }
    }

    private void Apply(ProbeResult result, TimeSpan duration)
    {
        var wasUp = _counter.IsUp;
        _server.RecordCheck(new HealthCheckResult(result.Success, result.Detail, _time.GetUtcNow(), duration));
        var changed = _counter.Record(result.Success);
        _diagnostics.HealthChecked(_server, result, wasUp, Progress(result, wasUp, changed));
        if (changed)
        {
            _server.SetHealthy(_counter.IsUp);
            _diagnostics.ServerHealthChanged(_server, _counter.IsUp, result.Detail);
        }
    }

    /// <summary>Where a failed check leaves the server, HAProxy style: "1/3 toward DOWN", "now DOWN", "still DOWN".</summary>
    private string Progress(ProbeResult result, bool wasUp, bool changed) => (result.Success, wasUp, changed) switch
    {
        (false, true, false) => $"{_counter.Streak}/{_config.Fall} toward DOWN",
        (false, true, true) => "now DOWN",
        (false, false, _) => "still DOWN",
        _ => "",
    };

    private TimeSpan NextInterval()
    {
        if (_counter.InTransition)
        {
            return _config.EffectiveFastInterval;
        }
        return _counter.IsUp ? _config.Interval : _config.EffectiveDownInterval;
    }
}
