using YamlDotNet.RepresentationModel;
using static Switchman.Core.Configuration.ConfigDefaults;

namespace Switchman.Core.Configuration.Loading;

/// <summary>
/// Turns the YAML tree into configuration records, one method per record. Hand-written rather than reflective so the
/// YAML shape (short forms, maps keyed by name, relative paths) is plain to read. Defaults come from the records
/// themselves; a field that is absent or wrong keeps its default, the error having been reported.
/// </summary>
internal sealed class ConfigBinder(YamlValueReader values, string baseDirectory)
{

    private const string StandardOutput = "stdout";

    public SwitchmanConfig Bind(YamlNode? root)
    {
        if (root is null)
        {
            return DefaultConfig;
        }
        var map = values.Map(root, "", nullIsEmpty: true);
        if (map is null)
        {
            return DefaultConfig;
        }
        var config = new SwitchmanConfig
        {
            Admin = map.Map("admin") is { } admin ? BindAdmin(admin) : DefaultConfig.Admin,
            AccessLog = map.Find("access_log") is { } accessLog ? BindAccessLog(accessLog, map.ChildPath("access_log")) : DefaultConfig.AccessLog,
            Frontends = map.Map("frontends") is { } frontends ? BindNamed(frontends, BindFrontend) : DefaultConfig.Frontends,
            Backends = map.Map("backends") is { } backends ? BindNamed(backends, BindBackend) : DefaultConfig.Backends,
            Vips = BindListOfMaps(map, "vips", BindVip) ?? DefaultConfig.Vips,
            Services = map.Map("services") is { } services ? BindNamed(services, BindService) : DefaultConfig.Services,
            VipInterfaces = map.Map("vip_interfaces") is { } vipInterfaces ? BindVipInterfaces(vipInterfaces) : DefaultConfig.VipInterfaces,
            Cluster = map.Map("cluster") is { } cluster ? BindCluster(cluster) : null,
            DataDir = map.String("data_dir") is { } dataDir ? (dataDir.Length > 0 ? ResolvePath(dataDir) : dataDir) : null,
        };
        map.ReportUnknownKeys();
        return config;
    }

    private AdminConfig BindAdmin(YamlMapReader map)
    {
        var admin = new AdminConfig
        {
            Listen = map.String("listen") ?? DefaultConfig.Admin.Listen,
            Tokens = BindListOfMaps(map, "tokens", BindToken) ?? DefaultConfig.Admin.Tokens,
            Tls = map.Map("tls") is { } tls ? BindAdminTls(tls) : null,
        };
        map.ReportUnknownKeys();
        return admin;
    }

    /// <summary>Keeps where the secret is, never the secret: the validator and the admin API read files and variables.</summary>
    private AdminTokenConfig BindToken(YamlMapReader map)
    {
        var file = map.String("file");
        var token = new AdminTokenConfig
        {
            Name = map.RequiredString("name"),
            // A token without a role would be a guess either way; read is the least harmful stand-in while reporting it.
            Role = map.RequiredEnum("role", AdminRole.Read),
            Sha256 = map.String("sha256"),
            File = file is { Length: > 0 } ? ResolvePath(file) : file,
            Env = map.String("env"),
        };
        map.ReportUnknownKeys();
        return token;
    }

    private AdminTlsConfig BindAdminTls(YamlMapReader map)
    {
        var cert = map.RequiredString("cert");
        var key = map.RequiredString("key");
        var ca = map.String("ca");
        var tls = new AdminTlsConfig
        {
            Cert = cert.Length > 0 ? ResolvePath(cert) : cert,
            Key = key.Length > 0 ? ResolvePath(key) : key,
            Ca = ca is { Length: > 0 } ? ResolvePath(ca) : ca,
            ClientCertificates = map.Enum<AdminClientCertificates>("client_certificates") ?? AdminClientCertificates.None,
        };
        map.ReportUnknownKeys();
        return tls;
    }

    /// <summary>Keeps where the shared secret is, never the secret, as for admin tokens.</summary>
    private ClusterConfig BindCluster(YamlMapReader map)
    {
        // Read in the documented order, so that "known keys here: …" lists them that way.
        var nodeId = map.RequiredString("node_id");
        var listen = map.RequiredString("listen");
        var peers = BindListOfMaps(map, "peers", BindClusterPeer) ?? DefaultCluster.Peers;
        var dataDir = map.RequiredString("data_dir");
        var secretFile = map.String("secret_file");
        var cluster = new ClusterConfig
        {
            NodeId = nodeId,
            Listen = listen,
            Peers = peers,
            DataDir = dataDir.Length > 0 ? ResolvePath(dataDir) : dataDir,
            SecretFile = secretFile is { Length: > 0 } ? ResolvePath(secretFile) : secretFile,
            SecretEnv = map.String("secret_env"),
            Tls = map.Map("tls") is { } tls ? BindClusterTls(tls) : null,
            Role = map.Enum<ClusterRole>("role") ?? DefaultCluster.Role,
            Join = map.Bool("join") ?? DefaultCluster.Join,
            ElectionTimeoutMin = map.Duration("election_timeout_min") ?? DefaultCluster.ElectionTimeoutMin,
            ElectionTimeoutMax = map.Duration("election_timeout_max") ?? DefaultCluster.ElectionTimeoutMax,
            RequestTimeout = map.Duration("request_timeout") ?? DefaultCluster.RequestTimeout,
            SnapshotEvery = map.Int("snapshot_every") ?? DefaultCluster.SnapshotEvery,
        };
        map.ReportUnknownKeys();
        return cluster;
    }

    private ClusterTlsConfig BindClusterTls(YamlMapReader map)
    {
        var cert = map.RequiredString("cert");
        var key = map.RequiredString("key");
        var ca = map.RequiredString("ca");
        var tls = new ClusterTlsConfig
        {
            Cert = cert.Length > 0 ? ResolvePath(cert) : cert,
            Key = key.Length > 0 ? ResolvePath(key) : key,
            Ca = ca.Length > 0 ? ResolvePath(ca) : ca,
        };
        map.ReportUnknownKeys();
        return tls;
    }

    /// <summary><c>vip_interfaces: { api: ens3 }</c>: VIP name → this node's interface for it.</summary>
    private static ValueList<VipInterfaceConfig> BindVipInterfaces(YamlMapReader map) =>
        new([.. map.Entries.Select(entry => new VipInterfaceConfig { Vip = entry.Key, Interface = map.String(entry.Key) ?? "" })]);

    private static ClusterPeerConfig BindClusterPeer(YamlMapReader map)
    {
        var peer = new ClusterPeerConfig
        {
            Id = map.RequiredString("id"),
            Address = map.RequiredString("address"),
        };
        map.ReportUnknownKeys();
        return peer;
    }

    /// <summary>Short form <c>access_log: stdout</c> or <c>access_log: /var/log/x.log</c>; long form <c>{ path: …, query: false }</c>.</summary>
    private AccessLogConfig BindAccessLog(YamlNode node, string path)
    {
        string? target;
        var query = DefaultConfig.AccessLog.Query;
        if (node is YamlMappingNode)
        {
            var map = values.Map(node, path)!;
            target = map.String("path");
            query = map.Bool("query") ?? query;
            map.ReportUnknownKeys();
        }
        else
        {
            target = values.String(node, path);
        }
        return new AccessLogConfig { Path = target is null or "" or StandardOutput ? target : ResolvePath(target), Query = query };
    }

    /// <summary><c>error_pages: { 503: file }</c>: HTTP status → file with the body.</summary>
    private ValueList<ErrorPageConfig> BindErrorPages(YamlMapReader map)
    {
        var pages = new List<ErrorPageConfig>();
        foreach (var (key, _) in map.Entries)
        {
            if (!int.TryParse(key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var status))
            {
                map.Error(key, $"'{key}' is not an HTTP status code: write error_pages as status: file, such as 503: /etc/switchman/errors/503.json");
                continue;
            }
            var file = map.String(key) ?? "";
            pages.Add(new ErrorPageConfig { Status = status, File = file.Length > 0 ? ResolvePath(file) : file });
        }
        return new ValueList<ErrorPageConfig>(pages);
    }

    /// <summary>A map keyed by name (frontends, backends): the key becomes Name, file order is kept.</summary>
    private ValueList<T> BindNamed<T>(YamlMapReader map, Func<string, YamlMapReader, T> bind)
    {
        var items = new List<T>();
        foreach (var (name, node) in map.Entries)
        {
            if (values.Map(node, map.ChildPath(name), nullIsEmpty: true) is { } item)
            {
                items.Add(bind(name, item));
            }
        }
        return new ValueList<T>(items);
    }

    /// <summary>A list of maps (servers, routes, certificates); items that are not maps are reported and skipped.</summary>
    private ValueList<T>? BindListOfMaps<T>(YamlMapReader parent, string key, Func<YamlMapReader, T> bind)
    {
        if (parent.List(key) is not { } items)
        {
            return null;
        }
        var result = new List<T>();
        foreach (var (node, path) in items)
        {
            if (values.Map(node, path) is { } map)
            {
                result.Add(bind(map));
            }
        }
        return new ValueList<T>(result);
    }

    private FrontendConfig BindFrontend(string name, YamlMapReader map)
    {
        var frontend = new FrontendConfig
        {
            Name = name,
            Listen = map.RequiredString("listen"),
            Protocols = map.List("protocols", values.Enum<HttpProtocol>) ?? DefaultFrontend.Protocols,
            Tls = map.Map("tls") is { } tls ? BindTls(tls) : null,
            Timeouts = map.Map("timeouts") is { } timeouts ? BindFrontendTimeouts(timeouts) : DefaultFrontend.Timeouts,
            Routes = BindListOfMaps(map, "routes", BindRoute) ?? DefaultFrontend.Routes,
            DefaultBackend = map.String("default_backend"),
            ErrorPages = map.Map("error_pages") is { } pages ? BindErrorPages(pages) : DefaultFrontend.ErrorPages,
        };
        map.ReportUnknownKeys();
        return frontend;
    }

    private TlsConfig BindTls(YamlMapReader map)
    {
        var tls = new TlsConfig { Certificates = BindListOfMaps(map, "certificates", BindCertificate) ?? ValueList<CertificateConfig>.Empty };
        map.ReportUnknownKeys();
        return tls;
    }

    private CertificateConfig BindCertificate(YamlMapReader map)
    {
        var cert = map.RequiredString("cert");
        var key = map.RequiredString("key");
        var certificate = new CertificateConfig
        {
            // Relative to the configuration file, not to wherever the process happens to be started.
            Cert = cert.Length > 0 ? ResolvePath(cert) : cert,
            Key = key.Length > 0 ? ResolvePath(key) : key,
            Hosts = BindStrings(map, "hosts") ?? ValueList<string>.Empty,
        };
        map.ReportUnknownKeys();
        return certificate;
    }

    private static FrontendTimeouts BindFrontendTimeouts(YamlMapReader map)
    {
        var timeouts = new FrontendTimeouts
        {
            ClientIdle = map.Duration("client_idle") ?? DefaultFrontendTimeouts.ClientIdle,
            RequestHeaders = map.Duration("request_headers") ?? DefaultFrontendTimeouts.RequestHeaders,
        };
        map.ReportUnknownKeys();
        return timeouts;
    }

    private static RouteConfig BindRoute(YamlMapReader map)
    {
        var route = new RouteConfig
        {
            Host = map.String("host"),
            Path = map.String("path") ?? DefaultRoute.Path,
            Backend = map.RequiredString("backend"),
        };
        map.ReportUnknownKeys();
        return route;
    }

    private BackendConfig BindBackend(string name, YamlMapReader map)
    {
        var backend = new BackendConfig
        {
            Name = name,
            Balance = map.Enum<BalanceAlgorithm>("balance") ?? DefaultBackend.Balance,
            Servers = BindListOfMaps(map, "servers", BindServer) ?? DefaultBackend.Servers,
            Health = map.Map("health") is { } health ? BindHealth(health) : null,
            Passive = map.Map("passive") is { } passive ? BindPassive(passive) : null,
            Retry = map.Map("retry") is { } retry ? BindRetry(retry) : DefaultBackend.Retry,
            Timeouts = map.Map("timeouts") is { } timeouts ? BindBackendTimeouts(timeouts) : DefaultBackend.Timeouts,
            SlowStart = map.Duration("slow_start") ?? DefaultBackend.SlowStart,
            Sticky = map.Map("sticky") is { } sticky ? BindSticky(sticky) : null,
        };
        map.ReportUnknownKeys();
        return backend;
    }

    private VipConfig BindVip(YamlMapReader map)
    {
        var vip = new VipConfig
        {
            Name = map.RequiredString("name"),
            Address = map.RequiredString("address"),
            Interface = map.RequiredString("interface"),
            Nodes = BindStrings(map, "nodes") ?? ValueList<string>.Empty,
            Preempt = map.Bool("preempt") ?? false,
            Pool = map.String("pool"),
        };
        map.ReportUnknownKeys();
        return vip;
    }

    private ServiceConfig BindService(string name, YamlMapReader map)
    {
        // Read in the documented order, so that "known keys here: …" lists them that way.
        var command = BindStrings(map, "command");
        if (command is null)
        {
            values.Errors.Add(map.Path, "missing required key 'command' (the program and its arguments, as a list)");
            values.Errors.MarkFailed(map.ChildPath("command"));
        }
        var service = new ServiceConfig
        {
            Name = name,
            Command = command ?? DefaultService.Command,
            Env = map.Map("env") is { } env ? BindEnvironment(env) : DefaultService.Env,
            WorkingDir = map.String("working_dir") is { Length: > 0 } workingDir ? ResolvePath(workingDir) : map.String("working_dir"),
            User = map.String("user"),
            Placement = map.Enum<ServicePlacement>("placement") ?? DefaultService.Placement,
            Nodes = BindStrings(map, "nodes") ?? DefaultService.Nodes,
            Monitor = map.Map("monitor") is { } monitor ? BindMonitor(monitor) : DefaultService.Monitor,
            Backend = map.String("backend"),
            Server = map.String("server") ?? DefaultService.Server,
            OnFail = map.Enum<ServiceOnFail>("on_fail") ?? DefaultService.OnFail,
            MigrationThreshold = map.Int("migration_threshold") ?? DefaultService.MigrationThreshold,
            FailureTimeout = map.Duration("failure_timeout") ?? DefaultService.FailureTimeout,
            StartTimeout = map.Duration("start_timeout") ?? DefaultService.StartTimeout,
            StopTimeout = map.Duration("stop_timeout") ?? DefaultService.StopTimeout,
            After = BindStrings(map, "after") ?? DefaultService.After,
            WithVip = map.String("with_vip"),
        };
        map.ReportUnknownKeys();
        return service;
    }

    /// <summary><c>env: { NAME: value }</c>, file order kept.</summary>
    private static ValueList<ServiceEnvironmentVariable> BindEnvironment(YamlMapReader map) =>
        new([.. map.Entries.Select(entry => new ServiceEnvironmentVariable { Name = entry.Key, Value = map.String(entry.Key) ?? "" })]);

    /// <summary><c>{ http: URL }</c> or <c>{ tcp: host:port }</c> (or neither: the process being alive), with <c>interval</c> and <c>timeout</c>.</summary>
    private static ServiceMonitorConfig BindMonitor(YamlMapReader map)
    {
        var http = map.String("http");
        var tcp = map.String("tcp");
        var monitor = new ServiceMonitorConfig
        {
            Type = http is not null ? ServiceMonitorType.Http : tcp is not null ? ServiceMonitorType.Tcp : ServiceMonitorType.Process,
            Target = http ?? tcp,
            Interval = map.Duration("interval") ?? DefaultMonitor.Interval,
            Timeout = map.Duration("timeout") ?? DefaultMonitor.Timeout,
        };
        map.ReportUnknownKeys();
        if (http is not null && tcp is not null)
        {
            map.Error("http", "a monitor is either http or tcp, not both");
        }
        return monitor;
    }

    private static ServerConfig BindServer(YamlMapReader map)
    {
        var server = new ServerConfig
        {
            Name = map.RequiredString("name"),
            Address = map.RequiredString("address"),
            Weight = map.Int("weight") ?? DefaultServer.Weight,
            Backup = map.Bool("backup") ?? DefaultServer.Backup,
            State = map.Enum<ServerAdminState>("state") ?? DefaultServer.State,
        };
        map.ReportUnknownKeys();
        return server;
    }

    private HealthCheckConfig BindHealth(YamlMapReader map)
    {
        var health = new HealthCheckConfig
        {
            Type = map.Enum<HealthCheckType>("type") ?? DefaultHealth.Type,
            Method = map.String("method") ?? DefaultHealth.Method,
            Path = map.String("path") ?? DefaultHealth.Path,
            Host = map.String("host"),
            ExpectStatus = map.List("expect_status", values.StatusRange) ?? DefaultHealth.ExpectStatus,
            ExpectBody = map.String("expect_body"),
            ExpectBodyRegex = map.String("expect_body_regex"),
            ExpectBodyAbsent = map.Bool("expect_body_absent") ?? DefaultHealth.ExpectBodyAbsent,
            Headers = map.Map("headers") is { } headers ? BindHealthHeaders(headers) : DefaultHealth.Headers,
            Interval = map.Duration("interval") ?? DefaultHealth.Interval,
            FastInterval = map.Duration("fast_interval"),
            DownInterval = map.Duration("down_interval"),
            Timeout = map.Duration("timeout") ?? DefaultHealth.Timeout,
            Rise = map.Int("rise") ?? DefaultHealth.Rise,
            Fall = map.Int("fall") ?? DefaultHealth.Fall,
            Initial = map.Enum<InitialHealth>("initial") ?? DefaultHealth.Initial,
        };
        map.ReportUnknownKeys();
        return health;
    }

    /// <summary><c>headers: { Name: value }</c>, file order kept.</summary>
    private static ValueList<HealthCheckHeader> BindHealthHeaders(YamlMapReader map) =>
        new([.. map.Entries.Select(entry => new HealthCheckHeader { Name = entry.Key, Value = map.String(entry.Key) ?? "" })]);

    private static PassiveHealthConfig BindPassive(YamlMapReader map)
    {
        var passive = new PassiveHealthConfig
        {
            ConsecutiveFailures = map.Int("consecutive_failures") ?? DefaultPassive.ConsecutiveFailures,
            EjectFor = map.Duration("eject_for") ?? DefaultPassive.EjectFor,
        };
        map.ReportUnknownKeys();
        return passive;
    }

    private RetryConfig BindRetry(YamlMapReader map)
    {
        var retry = new RetryConfig
        {
            Retries = map.Int("retries") ?? DefaultRetry.Retries,
            OnStatus = map.List("on_status", values.Int) ?? DefaultRetry.OnStatus,
            BufferBody = map.Size("buffer_body") ?? DefaultRetry.BufferBody,
        };
        map.ReportUnknownKeys();
        return retry;
    }

    private static BackendTimeouts BindBackendTimeouts(YamlMapReader map)
    {
        var timeouts = new BackendTimeouts
        {
            Connect = map.Duration("connect") ?? DefaultBackendTimeouts.Connect,
            PerTry = map.Duration("per_try") ?? DefaultBackendTimeouts.PerTry,
            Total = map.Duration("total") ?? DefaultBackendTimeouts.Total,
        };
        map.ReportUnknownKeys();
        return timeouts;
    }

    private static StickyConfig BindSticky(YamlMapReader map)
    {
        var sticky = new StickyConfig { Cookie = map.String("cookie") ?? DefaultSticky.Cookie };
        map.ReportUnknownKeys();
        return sticky;
    }

    private ValueList<string>? BindStrings(YamlMapReader map, string key) =>
        map.List(key) is { } items ? new ValueList<string>(items.Select(item => values.String(item.Node, item.Path)).OfType<string>()) : null;

    private string ResolvePath(string path) => System.IO.Path.GetFullPath(path, baseDirectory);
}
