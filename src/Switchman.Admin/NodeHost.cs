using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Switchman.Admin.Api;
using Switchman.Admin.Clustering;
using Switchman.Cluster;
using Switchman.Admin.Control;
using Switchman.Admin.Security;
using Switchman.Admin.Services;
using Switchman.Admin.Vips;
using Switchman.Core.Configuration;
using Switchman.Proxy;
using Switchman.Vips;

namespace Switchman.Admin;

/// <summary>
/// One Switchman node in a process: the admin web host (the process's main host, owner of signals and shutdown) and
/// the data plane it runs as a hosted service.
/// </summary>
public sealed class NodeHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private NodeHost(WebApplication app, DataPlane dataPlane)
    {
        _app = app;
        DataPlane = dataPlane;
    }

    public DataPlane DataPlane { get; }

    public ConfigStore ConfigStore => _app.Services.GetRequiredService<ConfigStore>();

    public NodeEvents Events => _app.Services.GetRequiredService<NodeEvents>();

    public IServiceProvider Services => _app.Services;

    /// <summary>This node's cluster member; null when it runs alone.</summary>
    public ClusterNode? Cluster => _app.Services.GetRequiredService<ClusterContext>().Node;

    /// <summary>The admin listener's bound address, e.g. http://127.0.0.1:9090.</summary>
    public string AdminUrl => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    /// <param name="config">The validated start-up configuration.</param>
    /// <param name="sourceFile">The file it came from, which reloads read again; null when built in code.</param>
    /// <param name="configureLogging">Where the logs go; the console when null.</param>
    /// <param name="time">The clock; the system's when null.</param>
    /// <param name="linkOperations">What adds, removes and announces VIP addresses; the host's own interfaces when null
    /// (tests pass operations on a network namespace, or ones that touch no interface).</param>
    /// <param name="addParts">Parts of their own that tests add (one that fails, to see the node stop); none when null.</param>
    public static NodeHost Create(
        SwitchmanConfig config, string? sourceFile = null, Action<ILoggingBuilder>? configureLogging = null, TimeProvider? time = null,
        ILinkOperations? linkOperations = null, Action<IServiceCollection>? addParts = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "switchman",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        if (configureLogging is not null)
        {
            configureLogging(builder.Logging);
        }
        else
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.UseUtcTimestamp = true;
            });
            if (config.AccessLog.Path == "stdout")
            {
                // Standard output is the access log's alone, JSON lines only: the node's own log goes to standard error.
                builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            }
        }
        NodeLogging.ApplyLibraryFilters(builder.Logging);
        // Started by systemd (Type=notify): READY=1 once the host has started, so after every hosted service's start,
        // the data plane's bound listeners included; STOPPING=1 at SIGTERM; console lines in the journal's form (<4> for
        // a warning). After the console set-up above, so its formatter wins there. Started any other way: nothing changes.
        builder.Services.AddSystemd();

        var admin = HostPort.Parse(config.Admin.Listen);
        // Whether the listener speaks TLS cannot change while it runs; its certificate files can (new connections use them).
        var adminTls = config.Admin.Tls is { } tls ? new AdminTls(tls, config.Cluster?.Tls, time ?? TimeProvider.System) : null;
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            AdminListenerLimits.Apply(k.Limits);
            k.Listen(new IPEndPoint(admin.Address ?? IPAddress.Loopback, admin.Port), listen =>
            {
                if (adminTls is not null)
                {
                    listen.UseHttps(adminTls.ConfigureListener);
                }
            });
        });
        if (adminTls is not null)
        {
            builder.Services.AddSingleton(adminTls);
        }
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.Services.AddSingleton(time ?? TimeProvider.System);
        builder.Services.AddHttpForwarder();
        builder.Services.AddSwitchmanMetrics(NodeIdentity.Of(config));
        builder.Services.AddSingleton(config);
        var clustered = config.Cluster is not null;
        var witness = config.Cluster?.Role == ClusterRole.Witness;
        builder.Services.AddSingleton(sp => NodeStart.Recover(
            config, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger<LocalChangeLog>()));
        builder.Services.AddSingleton<DataPlane>(sp => new DataPlane(
            // A witness votes and serves no traffic: its data plane stays empty whatever the configuration says.
            witness
                ? config with { Frontends = ValueList<FrontendConfig>.Empty, Backends = ValueList<BackendConfig>.Empty }
                : sp.GetRequiredService<NodeStart>() is var start ? start.State.Effective(start.Config) : config,
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<Yarp.ReverseProxy.Forwarder.IHttpForwarder>()));
        builder.Services.AddSingleton<NodeEvents>();
        builder.Services.AddSingleton(sp => new ChangeApplier(
            sp.GetRequiredService<NodeStart>().Config, sp.GetRequiredService<NodeStart>().State, sp.GetRequiredService<DataPlane>(), sp.GetRequiredService<NodeEvents>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ChangeApplier>>(), servesTraffic: !witness));
        builder.Services.AddSingleton<IChangeLog>(sp => clustered
            ? sp.GetRequiredService<RaftChangeLog>()
            : new LocalChangeLog(sp.GetRequiredService<NodeStart>().State, sp.GetRequiredService<ChangeApplier>(), sp.GetRequiredService<NodeStart>().File));
        builder.Services.AddSingleton(sp => new ConfigStore(
            sp.GetRequiredService<IChangeLog>(), sp.GetRequiredService<ChangeApplier>(), sourceFile, sp.GetRequiredService<NodeEvents>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ConfigStore>>()));
        if (config.Cluster is { } cluster)
        {
            // Before the data plane: a restarted node re-applies what it agreed to, and stops its cluster member last.
            builder.Services.AddSwitchmanCluster(cluster, config.Admin);
        }
        else
        {
            builder.Services.AddSingleton(ClusterContext.Alone);
        }
        builder.Services.AddSingleton(sp => new ServiceSupervisor(
            sp.GetRequiredService<IChangeLog>(), NodeIdentity.Of(config), runsServices: !witness, ServiceDirectory(config), removeDirectoryAtStop: DataDirectoryOf(config) is null,
            sp.GetRequiredService<DataPlane>(),
            sp.GetRequiredService<IVipMembership>(), sp.GetRequiredService<HolderReport>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            sp.GetRequiredService<StallFence>()));
        // Before the data plane: the node's own backends are starting when its first health round runs, and stop after its listeners.
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ServiceSupervisor>());
        builder.Services.AddSingleton(sp => new ServerObserver(sp.GetRequiredService<DataPlane>(), sp.GetRequiredService<ClusterContext>(), NodeIdentity.Of(config)));
        builder.Services.AddSingleton<RollingRestart>();
        builder.Services.AddHostedService<DataPlaneService>();
        // After the data plane: started once it serves, stopped (releasing the VIPs) before its listeners stop.
        if (linkOperations is not null)
        {
            // The caller's: it disposes it (the container disposes only what it made).
            builder.Services.AddSingleton(linkOperations);
        }
        else
        {
            builder.Services.AddSingleton<ILinkOperations>(sp => LinkOperations.OnHost(sp.GetRequiredService<TimeProvider>()));
        }
        builder.Services.AddSingleton(sp => new LinkAddresses(sp.GetRequiredService<ILinkOperations>(), sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<IVipMembership>(sp => sp.GetService<ClusterNode>() is { } node ? new ClusterVipMembership(node) : new LoneVipMembership(NodeIdentity.Of(config)));
        builder.Services.AddSingleton(sp => new HolderReport(sp.GetRequiredService<IVipMembership>()));
        // One for the VIP keeper (which beats it) and the supervisor's singletons: the right both hold under.
        builder.Services.AddSingleton(sp => new StallFence(sp.GetRequiredService<IVipMembership>(), sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(sp =>
        {
            var keeper = new VipKeeper(
                sp.GetRequiredService<IChangeLog>(), sp.GetRequiredService<LinkAddresses>(), sp.GetRequiredService<NodeEvents>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<VipKeeper>>(),
                sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), sp.GetRequiredService<IVipMembership>(),
                // vip_interfaces is node-local and read at start: the file's override, else the VIP's own interface.
                config.InterfaceFor, sp.GetRequiredService<HolderReport>(), sp.GetRequiredService<StallFence>());
            // A VIP given to this node is taken the moment the assignment is applied, not at the keeper's next look.
            if (sp.GetService<ClusterNode>() is { } node)
            {
                node.StateApplied += _ => keeper.Wake();
            }
            return keeper;
        });
        builder.Services.AddHostedService(sp => sp.GetRequiredService<VipKeeper>());
        if (clustered)
        {
            builder.Services.AddHostedService(sp => sp.GetRequiredService<ClusterApplier>());
            builder.Services.AddHostedService<LeaderDuties>();
        }
        if (!witness)
        {
            // A witness holds no VIP, so it neither places them (it never leads) nor reports what it can serve.
            builder.Services.AddHostedService<VipAssigner>();
            builder.Services.AddHostedService<VipReadinessReporter>();
        }
        builder.Services.AddHostedService<ReloadOnSignalService>();
        builder.Services.AddHostedService<RefusedConnectionsReport>();
        builder.Services.AddSwitchmanAdminApi();
        addParts?.Invoke(builder.Services);

        var app = builder.Build();
        adminTls?.LogReloads(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<AdminTls>());
        var dataPlane = app.Services.GetRequiredService<DataPlane>();
        app.UseAuthentication();
        app.UseAuthorization();
        app.Use(AcceptedQueryRules.CheckAsync);
        app.MapSwitchmanAdmin(dataPlane);
        return new NodeHost(app, dataPlane);
    }

    /// <summary>
    /// Where the supervisor keeps its services' output and process records: under the node's data directory, so that a
    /// restarted node finds the process groups a crash left; a node with none keeps them in a directory of its own
    /// process (output still readable, nothing to find after a crash).
    /// </summary>
    private static string ServiceDirectory(SwitchmanConfig config) =>
        DataDirectoryOf(config) is { } dataDir
            ? Path.Combine(dataDir, "services")
            : Path.Combine(Path.GetTempPath(), $"switchman-services-{Environment.ProcessId}-{Guid.NewGuid():N}");

    private static string? DataDirectoryOf(SwitchmanConfig config) => (config.Cluster?.DataDir ?? config.DataDir) is { Length: > 0 } dataDir ? dataDir : null;

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            NodeStartLog.Failed(_app.Services.GetRequiredService<ILogger<NodeHost>>(), e);
            throw;
        }
    }

    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    /// <summary>After <see cref="StartAsync"/>: waits for SIGTERM/SIGINT (or the token), then stops gracefully.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>
    /// The node's parts that failed on their own (a background service that threw), with why: the host stops when one
    /// does, as if asked to (BackgroundServiceExceptionBehavior.StopHost, logged at Critical as event 10). Empty after a
    /// stop that was asked for; <c>switchman run</c> exits 1 when it is not, so that a supervisor (systemd's
    /// Restart=on-failure) starts the node again rather than taking it for stopped on purpose.
    /// </summary>
    public IReadOnlyList<NodePartFailure> Failures =>
    [
        .. _app.Services.GetServices<IHostedService>()
            .OfType<BackgroundService>()
            .Where(part => part.ExecuteTask is { IsFaulted: true })
            .Select(part => new NodePartFailure(part.GetType().Name, part.ExecuteTask!.Exception!.GetBaseException())),
    ];

    public async ValueTask DisposeAsync() => await _app.DisposeAsync().ConfigureAwait(false);

    /// <summary>Starts the data plane with the host and stops it (letting requests finish) when the host stops.</summary>
    private sealed class DataPlaneService(DataPlane dataPlane, NodeEvents events) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            dataPlane.HealthChanged += change => events.Publish(
                change.Up ? "server_up" : "server_down",
                $"server {change.Backend}/{change.Server} is {(change.Up ? "UP" : "DOWN")}: {change.Detail}",
                new Dictionary<string, object?> { ["backend"] = change.Backend, ["server"] = change.Server, ["check"] = change.Detail });
            return dataPlane.StartAsync(cancellationToken);
        }

        public Task StopAsync(CancellationToken cancellationToken) => dataPlane.StopAsync(cancellationToken);
    }
}

/// <summary>A part of the node (a background service, by its type's name) that stopped the node by failing, and why.</summary>
public sealed record NodePartFailure(string Part, Exception Error);
