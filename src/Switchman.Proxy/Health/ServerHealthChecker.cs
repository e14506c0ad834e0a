using Switchman.Core.Configuration;
using Switchman.Proxy.Diagnostics;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Health;

/// <summary>
/// The active-check loop of one server: probe, apply rise/fall, wait the interval that fits the state
/// (HAProxy's inter while steady, fastinter in transition, downinter while down), repeat until stopped.
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

    /// <summary>Completes when the first probe has finished, whatever its result.</summary>
    public Task FirstCheckCompleted => _firstCheck.Task;

    public async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                await CheckOnceAsync(stopping).ConfigureAwait(false);
                _firstCheck.TrySetResult();
                await Task.Delay(NextInterval(), _time, stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping is the normal way out of the loop.
        }
        finally
        {
            _firstCheck.TrySetResult();
        }
    }

    /// <summary>Runs one probe and applies its result. Exposed for tests that drive checks step by step.</summary>
    public async Task CheckOnceAsync(CancellationToken stopping)
    {
        var started = _time.GetTimestamp();
        bool success;
        string detail;
        using (var timeout = new CancellationTokenSource(_config.Timeout, _time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, timeout.Token))
        {
            try
            {
                (success, detail) = await _probe.ProbeAsync(_server, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stopping.IsCancellationRequested)
            {
                (success, detail) = (false, $"timed out after {_config.Timeout.TotalMilliseconds:0} ms");
            }
        }
        stopping.ThrowIfCancellationRequested();

        _server.RecordCheck(new HealthCheckResult(success, detail, _time.GetUtcNow(), _time.GetElapsedTime(started)));
        if (_counter.Record(success))
        {
            _server.SetHealthy(_counter.IsUp);
            _diagnostics.ServerHealthChanged(_server, _counter.IsUp, detail);
        }
    }

    private TimeSpan NextInterval()
    {
        if (_counter.InTransition)
        {
            return _config.EffectiveFastInterval;
        }
        return _counter.IsUp ? _config.Interval : _config.EffectiveDownInterval;
    }
}
