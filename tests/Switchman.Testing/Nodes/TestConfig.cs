using Switchman.Core.Configuration;
using Switchman.DemoBackend;

namespace Switchman.Testing;

/// <summary>Shorthands for building test configurations: frontend "web" on loopback port 0 in front of backend "api".</summary>
public static class TestConfig
{
    /// <summary>A configuration file: a node whose only server is the discard port (nothing answers there), with a newline at the end.</summary>
    public const string NodeWithoutLiveServer = """
        admin:
          listen: 127.0.0.1:0
        frontends:
          web:
            listen: 127.0.0.1:0
            default_backend: api
        backends:
          api:
            servers:
              - name: a
                address: 127.0.0.1:9

        """;

    /// <summary>One frontend (by default "web" on loopback port 0, to <paramref name="backend"/>) and one backend.</summary>
    public static SwitchmanConfig Single(BackendConfig backend, FrontendConfig? frontend = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return new()
        {
            Frontends = ValueList.Create(frontend ?? new FrontendConfig { Name = "web", Listen = "127.0.0.1:0", DefaultBackend = backend.Name }),
            Backends = ValueList.Create(backend),
        };
    }

    /// <summary>Backend "api" with <paramref name="servers"/>, behind frontend "web".</summary>
    public static SwitchmanConfig Single(params ServerConfig[] servers) => Single(new BackendConfig { Name = "api", Servers = servers });

    /// <summary>Backend "api" with one server per (name, host:port).</summary>
    public static BackendConfig Backend(params (string Name, string Address)[] servers) => new()
    {
        Name = "api",
        Servers = new ValueList<ServerConfig>(servers.Select(s => new ServerConfig { Name = s.Name, Address = s.Address })),
    };

    public static ServerConfig Server(string name, DemoBackendServer server, int weight = 1)
    {
        ArgumentNullException.ThrowIfNull(server);
        return new() { Name = name, Address = server.BaseAddress.Authority, Weight = weight };
    }

    /// <summary>HTTP checks of /healthz every 300 ms, 500 ms timeout, rise 2, fall 2: health known within a second.</summary>
    public static HealthCheckConfig FastHealth => new()
    {
        Path = "/healthz",
        Interval = TimeSpan.FromMilliseconds(300),
        Timeout = TimeSpan.FromMilliseconds(500),
        Rise = 2,
        Fall = 2,
    };
}
