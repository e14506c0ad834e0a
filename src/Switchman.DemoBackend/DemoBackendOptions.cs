namespace Switchman.DemoBackend;

/// <summary>How to start a demo backend. Everything after start-up can be changed through <see cref="DemoBackendServer.Behavior"/> or <c>POST /_control</c>.</summary>
public sealed record DemoBackendOptions
{
    /// <summary>The name the server reports in every response ("server" in the JSON body and the X-Server header).</summary>
    public required string Name { get; init; }

    /// <summary>Address to listen on as ip:port; port 0 asks the operating system for a free port.</summary>
    public string Listen { get; init; } = "127.0.0.1:0";

    /// <summary>Delay added to every application request (not to /healthz or /_control).</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>When set, every application request is answered with this status.</summary>
    public int? FailStatus { get; init; }

    /// <summary>
    /// Like an application that binds its port before it has loaded (uwsgi loading Keystone): for this long after start,
    /// every request, health checks included, waits until the time has passed. None by default.
    /// </summary>
    public TimeSpan LoadTime { get; init; }

    /// <summary>When true, GET /healthz answers 503.</summary>
    public bool HealthFailing { get; init; }

    /// <summary>Clock used for delays; tests may substitute a fake one.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>How many of the most recent requests <see cref="DemoBackendServer.ReceivedRequests"/> keeps, so long load runs stay bounded in memory.</summary>
    public int MaxRecordedRequests { get; init; } = 10_000;
}
