using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Switchman.Admin;

public static class AdminServices
{
    /// <summary>Meters exported on /metrics.</summary>
    public static readonly string[] ExportedMeters = ["Switchman.*"];

    /// <summary>The OpenTelemetry <c>service.name</c> of every node (Prometheus: <c>target_info{service_name="switchman"}</c>).</summary>
    public const string ServiceName = "switchman";

    /// <summary>
    /// OpenTelemetry metrics with the Prometheus exporter, serving every Switchman meter, under the resource
    /// service.name "switchman" and service.instance.id <paramref name="nodeId"/>.
    /// </summary>
    public static IServiceCollection AddSwitchmanMetrics(this IServiceCollection services, string nodeId)
    {
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName, serviceInstanceId: nodeId, autoGenerateServiceInstanceId: false))
            .WithMetrics(metrics => metrics
            .AddMeter(ExportedMeters)
            .AddPrometheusExporter());
        return services;
    }
}
