using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

// Plain YARP in front of the bench backends:
//   plain-yarp --listen 127.0.0.1:PORT --destination 127.0.0.1:PORT_A --destination 127.0.0.1:PORT_B
// One catch-all route, one cluster, round robin, active health checks on /healthz every 2 s (YARP's policy has a
// fall threshold only: 3 consecutive failures), YARP's default transforms (X-Forwarded-*), no access log.
var listen = "127.0.0.1:18081";
var destinations = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--listen" when i + 1 < args.Length:
            listen = args[++i];
            break;
        case "--destination" when i + 1 < args.Length:
            destinations.Add(args[++i]);
            break;
        default:
            await Console.Error.WriteLineAsync($"plain-yarp: unexpected argument '{args[i]}'");
            return 2;
    }
}
if (destinations.Count == 0 || !IPEndPoint.TryParse(listen, out var endpoint))
{
    await Console.Error.WriteLineAsync("usage: plain-yarp --listen IP:PORT --destination HOST:PORT [--destination HOST:PORT ...]");
    return 2;
}

var builder = WebApplication.CreateSlimBuilder(args: []);
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.Listen(endpoint);
});

var cluster = new ClusterConfig
{
    ClusterId = "api",
    LoadBalancingPolicy = LoadBalancingPolicies.RoundRobin,
    HealthCheck = new HealthCheckConfig
    {
        Active = new ActiveHealthCheckConfig
        {
            Enabled = true,
            Interval = TimeSpan.FromSeconds(2),
            Timeout = TimeSpan.FromSeconds(1),
            Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures,
            Path = "/healthz",
        },
    },
    Metadata = new Dictionary<string, string> { ["ConsecutiveFailuresHealthPolicy.Threshold"] = "3" },
    Destinations = destinations
        .Select((address, index) => (Name: ((char)('a' + index)).ToString(), Address: $"http://{address}/"))
        .ToDictionary(d => d.Name, d => new DestinationConfig { Address = d.Address }),
};
var route = new RouteConfig
{
    RouteId = "all",
    ClusterId = "api",
    Match = new RouteMatch { Path = "/{**catch-all}" },
};
builder.Services.AddReverseProxy().LoadFromMemory([route], [cluster]);

var app = builder.Build();
app.MapReverseProxy();
await app.StartAsync();
foreach (var address in app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses)
{
    Console.WriteLine($"plain-yarp listening on {address}");
}
await app.WaitForShutdownAsync();
return 0;
