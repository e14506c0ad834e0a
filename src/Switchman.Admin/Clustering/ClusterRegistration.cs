using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Switchman.Admin.Security;
using Switchman.Cluster;
using Switchman.Core.Configuration;

namespace Switchman.Admin.Clustering;

public static class ClusterRegistration
{
    /// <summary>Node-to-node admin calls wait at most this long (a forwarded change includes its commit).</summary>
    private static readonly TimeSpan ForwardTimeout = TimeSpan.FromSeconds(15);

    /// <summary>The cluster member and what connects it to the node: the applier, the replication, forwarding, signatures.</summary>
    public static IServiceCollection AddSwitchmanCluster(this IServiceCollection services, ClusterConfig cluster, AdminConfig admin)
    {
        // Validation read it a moment ago; a file or variable gone since is refused here with the same words.
        var secret = ClusterSecretSource.TryRead(cluster, out var problem) ?? throw new InvalidOperationException(problem);
        var options = new ClusterNodeOptions { Config = cluster, Secret = secret, AdminUrl = AdvertisedAdminUrl(cluster, admin) };
        services.AddSingleton(sp => new ClusterNode(
            options, sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new ClusterSignature(secret, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new LeaderForwarder(
            sp.GetRequiredService<ClusterNode>(), sp.GetRequiredService<ClusterSignature>(),
            new HttpClient(new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectTimeout = cluster.RequestTimeout,
                // Peers' admin APIs speak HTTPS when admin.tls is set (every node's admin section should agree).
                SslOptions = sp.GetService<AdminTls>()?.ClientOptions() ?? new System.Net.Security.SslClientAuthenticationOptions(),
            })
            {
                Timeout = ForwardTimeout,
            },
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<AppliedProgress>();
        services.AddSingleton<ClusterApplier>();
        services.AddSingleton<RaftChangeLog>();
        services.AddSingleton(sp => new ClusterContext(
            sp.GetRequiredService<ClusterNode>(), sp.GetRequiredService<LeaderForwarder>(), sp.GetRequiredService<ClusterSignature>()));
        services.AddHostedService<ClusterMemberLifetime>();
        return services;
    }

    /// <summary>
    /// The admin URL peers use: the admin listener's address, or, when it listens on every address, this node's
    /// cluster address with the admin port.
    /// </summary>
    public static string AdvertisedAdminUrl(ClusterConfig cluster, AdminConfig admin)
    {
        var listen = HostPort.Parse(admin.Listen);
        var host = listen.Address is { } address && !address.Equals(IPAddress.Any) && !address.Equals(IPAddress.IPv6Any)
            ? address
            : IPEndPoint.Parse(cluster.Listen).Address;
        var scheme = admin.Tls is null ? "http" : "https";
        return new UriBuilder(scheme, host.ToString(), listen.Port).Uri.ToString().TrimEnd('/');
    }
}
