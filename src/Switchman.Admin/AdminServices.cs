using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace Switchman.Admin;

public static class AdminServices
{
    /// <summary>Meters exported on /metrics.</summary>
    public static readonly string[] ExportedMeters = ["Switchman.*"];

    /// <summary>OpenTelemetry metrics with the Prometheus exporter, serving every Switchman meter.</summary>
    public static IServiceCollection AddSwitchmanMetrics(this IServiceCollection services)
    {
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(ExportedMeters)
            .AddPrometheusExporter());
        return services;
    }
}
