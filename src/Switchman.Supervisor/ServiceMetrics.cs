using System.Diagnostics.Metrics;
using Switchman.Supervisor.Monitoring;

namespace Switchman.Supervisor;

/// <summary>The supervisor's metrics (meter <c>Switchman.Supervisor</c>): starts, failures and monitor latency, per service.</summary>
public sealed class ServiceMetrics
{
    public const string MeterName = "Switchman.Supervisor";

    private readonly Counter<long> _starts;
    private readonly Counter<long> _failures;
    private readonly Histogram<double> _monitorDuration;
    private readonly Meter _meter;

    public ServiceMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _meter = meter;
        _starts = meter.CreateCounter<long>("switchman.service.starts", "{start}", "Service instances started on this node (first starts and restarts).");
        _failures = meter.CreateCounter<long>("switchman.service.failures", "{failure}", "Service instance failures on this node: exits, failed monitors, starts that failed.");
        _monitorDuration = meter.CreateHistogram<double>("switchman.service.monitor.duration", "s", "How long each monitor check of a service instance took.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
    }

    /// <summary>
    /// The gauge <c>switchman.service.instance.state</c>: for each of this node's instances, 1 for its current state and 0
    /// for the others, read from <paramref name="states"/> (service → state name) at each collection.
    /// </summary>
    public void ObserveInstanceStates(Func<IReadOnlyDictionary<string, string>> states, IReadOnlyList<string> allStates)
    {
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(allStates);
        _meter.CreateObservableGauge("switchman.service.instance.state", () => states().SelectMany(instance => allStates.Select(state =>
                new Measurement<int>(state == instance.Value ? 1 : 0, new KeyValuePair<string, object?>("service", instance.Key), new KeyValuePair<string, object?>("state", state)))),
            "{state}", "1 for the state this node's instance of a service is in now, 0 for the others: " + string.Join(", ", allStates) + ".");
    }

    public void Started(string service) => _starts.Add(1, new KeyValuePair<string, object?>("service", service));

    public void Failed(string service) => _failures.Add(1, new KeyValuePair<string, object?>("service", service));

    public void MonitorChecked(string service, MonitorResult result) =>
        _monitorDuration.Record(result.Latency.TotalSeconds, new KeyValuePair<string, object?>("service", service), new KeyValuePair<string, object?>("ok", result.Ok));
}
