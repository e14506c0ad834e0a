namespace Switchman.Supervisor.Monitoring;

/// <summary>
/// One check of whether a service answers. Implementations never throw for a failed check (a refused connection, a
/// timeout, a bad status are results an operator reads); only cancellation of the caller's token ends a check with
/// an exception.
/// </summary>
public interface IServiceMonitor
{
    Task<MonitorResult> CheckAsync(CancellationToken cancellationToken);
}

/// <summary>The outcome of one check.</summary>
/// <param name="Ok">Whether the service answered as a healthy one does.</param>
/// <param name="Problem">When not <paramref name="Ok"/>: what was wrong, short ("connection refused", "HTTP 500", "no answer within 1s").</param>
/// <param name="Latency">How long the check took, answer or not.</param>
public readonly record struct MonitorResult(bool Ok, string? Problem, TimeSpan Latency)
{
    public static MonitorResult Healthy(TimeSpan latency) => new(true, null, latency);

    public static MonitorResult Failed(string problem, TimeSpan latency) => new(false, problem, latency);
}
