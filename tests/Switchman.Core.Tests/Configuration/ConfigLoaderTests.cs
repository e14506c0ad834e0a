using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;

namespace Switchman.Core.Tests.Configuration;

public class ConfigLoaderTests
{
    [Fact]
    public void LoadYaml_EveryFieldWritten_BindsToRecords()
    {
        using var dir = new TempDirectory();
        TestCertificates.Write(dir.File("certs/api.pem"), dir.File("certs/api.key"));
        var yaml = """
            admin:
              listen: 127.0.0.1:9191
            access_log:
              path: logs/access.log
            frontends:
              public:
                listen: "[::1]:8443"
                protocols: [http1]
                tls:
                  certificates:
                    - cert: certs/api.pem
                      key: certs/api.key
                      hosts: [api.example.com, "*.api.example.com"]
                timeouts:
                  client_idle: 1m30s
                  request_headers: 500ms
                routes:
                  - host: api.example.com
                    path: /v2
                    backend: api
                  - backend: static
                default_backend: api
            backends:
              api:
                balance: leastconn
                servers:
                  - name: a
                    address: 10.0.0.1:9001
                    weight: 10
                  - name: b
                    address: api-b.local:9002
                    backup: true
                    state: drain
                health:
                  type: http
                  method: HEAD
                  path: /healthz
                  host: api.internal
                  expect_status: [200, 204-299]
                  interval: 1s
                  fast_interval: 200ms
                  down_interval: 5s
                  timeout: 800ms
                  rise: 3
                  fall: 4
                  initial: down
                passive:
                  consecutive_failures: 7
                  eject_for: 1m
                retry:
                  retries: 3
                  on_status: [502, 503]
                  buffer_body: 1MiB
                timeouts:
                  connect: 1s
                  per_try: 10s
                  total: 1h
                slow_start: 20s
                sticky:
                  cookie: API_SERVER
              static:
                balance: uri
                servers:
                  - name: s1
                    address: 10.0.0.9:80
                    state: maint
                health:
                  type: tcp
            """;

        var config = TestConfigs.LoadValid(yaml, dir.Path);

        var expected = new SwitchmanConfig
        {
            Admin = new AdminConfig { Listen = "127.0.0.1:9191" },
            AccessLog = new AccessLogConfig { Path = dir.File("logs/access.log") },
            Frontends = ValueList.Create(new FrontendConfig
            {
                Name = "public",
                Listen = "[::1]:8443",
                Protocols = ValueList.Create(HttpProtocol.Http1),
                Tls = new TlsConfig
                {
                    Certificates = ValueList.Create(new CertificateConfig
                    {
                        Cert = dir.File("certs/api.pem"),
                        Key = dir.File("certs/api.key"),
                        Hosts = ValueList.Create("api.example.com", "*.api.example.com"),
                    }),
                },
                Timeouts = new FrontendTimeouts { ClientIdle = TimeSpan.FromSeconds(90), RequestHeaders = TimeSpan.FromMilliseconds(500) },
                Routes = ValueList.Create(
                    new RouteConfig { Host = "api.example.com", Path = "/v2", Backend = "api" },
                    new RouteConfig { Backend = "static" }),
                DefaultBackend = "api",
            }),
            Backends = ValueList.Create(
                new BackendConfig
                {
                    Name = "api",
                    Balance = BalanceAlgorithm.LeastConn,
                    Servers = ValueList.Create(
                        new ServerConfig { Name = "a", Address = "10.0.0.1:9001", Weight = 10 },
                        new ServerConfig { Name = "b", Address = "api-b.local:9002", Backup = true, State = ServerAdminState.Drain }),
                    Health = new HealthCheckConfig
                    {
                        Type = HealthCheckType.Http,
                        Method = "HEAD",
                        Path = "/healthz",
                        Host = "api.internal",
                        ExpectStatus = ValueList.Create(new StatusRange(200, 200), new StatusRange(204, 299)),
                        Interval = TimeSpan.FromSeconds(1),
                        FastInterval = TimeSpan.FromMilliseconds(200),
                        DownInterval = TimeSpan.FromSeconds(5),
                        Timeout = TimeSpan.FromMilliseconds(800),
                        Rise = 3,
                        Fall = 4,
                        Initial = InitialHealth.Down,
                    },
                    Passive = new PassiveHealthConfig { ConsecutiveFailures = 7, EjectFor = TimeSpan.FromMinutes(1) },
                    Retry = new RetryConfig { Retries = 3, OnStatus = ValueList.Create(502, 503), BufferBody = 1024 * 1024 },
                    Timeouts = new BackendTimeouts { Connect = TimeSpan.FromSeconds(1), PerTry = TimeSpan.FromSeconds(10), Total = TimeSpan.FromHours(1) },
                    SlowStart = TimeSpan.FromSeconds(20),
                    Sticky = new StickyConfig { Cookie = "API_SERVER" },
                },
                new BackendConfig
                {
                    Name = "static",
                    Balance = BalanceAlgorithm.Uri,
                    Servers = ValueList.Create(new ServerConfig { Name = "s1", Address = "10.0.0.9:80", State = ServerAdminState.Maint }),
                    Health = new HealthCheckConfig { Type = HealthCheckType.Tcp },
                }),
        };
        Assert.Equal(expected, config);
    }

    [Fact]
    public void LoadYaml_OnlyRequiredFields_AppliesDefaults()
    {
        var config = TestConfigs.LoadValid(TestConfigs.Minimal());

        Assert.Equal("127.0.0.1:9090", config.Admin.Listen);
        Assert.Null(config.AccessLog.Path);
        var frontend = Assert.Single(config.Frontends);
        Assert.Equal("web", frontend.Name);
        Assert.Equal(ValueList.Create(HttpProtocol.Http1, HttpProtocol.Http2), frontend.Protocols);
        Assert.Null(frontend.Tls);
        Assert.Equal(TimeSpan.FromSeconds(60), frontend.Timeouts.ClientIdle);
        Assert.Equal(TimeSpan.FromSeconds(10), frontend.Timeouts.RequestHeaders);
        Assert.Empty(frontend.Routes);

        var backend = Assert.Single(config.Backends);
        Assert.Equal(BalanceAlgorithm.RoundRobin, backend.Balance);
        Assert.Equal(["a", "b"], backend.Servers.Select(s => s.Name));
        Assert.All(backend.Servers, s => Assert.Equal((1, false, ServerAdminState.Ready), (s.Weight, s.Backup, s.State)));
        Assert.Null(backend.Health);
        Assert.Null(backend.Passive);
        Assert.Null(backend.Sticky);
        Assert.Equal(new RetryConfig { Retries = 2, OnStatus = ValueList<int>.Empty, BufferBody = 65536 }, backend.Retry);
        Assert.Equal(new BackendTimeouts(), backend.Timeouts);
        Assert.Equal(TimeSpan.FromSeconds(2), backend.Timeouts.Connect);
        Assert.Equal(TimeSpan.Zero, backend.SlowStart);
    }

    [Fact]
    public void LoadYaml_EmptySections_UseSectionDefaults()
    {
        var config = TestConfigs.LoadValid(TestConfigs.Minimal(backendExtra: "health: {}\npassive: {}\nsticky: {}"));

        var backend = config.Backends[0];
        Assert.Equal(new HealthCheckConfig(), backend.Health);
        Assert.Equal(new StatusRange(200, 399), Assert.Single(backend.Health!.ExpectStatus));
        Assert.Equal((2, 3), (backend.Health.Rise, backend.Health.Fall));
        Assert.Equal(new PassiveHealthConfig { ConsecutiveFailures = 5, EjectFor = TimeSpan.FromSeconds(30) }, backend.Passive);
        Assert.Equal("SWITCHMAN_SERVER", backend.Sticky!.Cookie);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# nothing but a comment\n")]
    [InlineData("{}")]
    public void LoadYaml_EmptyDocument_LoadsDefaultConfig(string yaml)
    {
        var config = TestConfigs.LoadValid(yaml);

        Assert.Equal(new SwitchmanConfig(), config);
    }

    [Fact]
    public void LoadYaml_FrontendsAndBackends_KeepFileOrder()
    {
        var yaml = """
            frontends:
              zeta: { listen: "127.0.0.1:0", default_backend: b2 }
              alpha: { listen: "127.0.0.1:0", default_backend: b1 }
            backends:
              b2: { servers: [{ name: x, address: "127.0.0.1:1" }] }
              b1: { servers: [{ name: x, address: "127.0.0.1:1" }] }
            """;

        var config = TestConfigs.LoadValid(yaml);

        Assert.Equal(["zeta", "alpha"], config.Frontends.Select(f => f.Name));
        Assert.Equal(["b2", "b1"], config.Backends.Select(b => b.Name));
    }

    [Theory]
    [InlineData("access_log: stdout", "stdout")]
    [InlineData("access_log: { path: stdout }", "stdout")]
    [InlineData("access_log: /var/log/switchman/access.log", "/var/log/switchman/access.log")]
    [InlineData("access_log:", null)]
    public void LoadYaml_AccessLogShortAndLongForm_BindPath(string line, string? expected)
    {
        var config = TestConfigs.LoadValid(line + "\n");

        Assert.Equal(expected, config.AccessLog.Path);
    }

    [Fact]
    public void LoadYaml_RelativeAccessLogPath_ResolvedAgainstBaseDirectory()
    {
        using var dir = new TempDirectory();

        var config = TestConfigs.LoadValid("access_log: logs/access.log\n", dir.Path);

        Assert.Equal(Path.Combine(dir.Path, "logs", "access.log"), config.AccessLog.Path);
    }

    [Fact]
    public void LoadYaml_SingleScalarForList_ReadAsOneItem()
    {
        var yaml = TestConfigs.Minimal(
            backendExtra: "health:\n  expect_status: 200-299\nretry:\n  on_status: 503",
            frontendExtra: "protocols: http2");

        var config = TestConfigs.LoadValid(yaml);

        Assert.Equal(ValueList.Create(HttpProtocol.Http2), config.Frontends[0].Protocols);
        Assert.Equal(ValueList.Create(new StatusRange(200, 299)), config.Backends[0].Health!.ExpectStatus);
        Assert.Equal(ValueList.Create(503), config.Backends[0].Retry.OnStatus);
    }

    [Theory]
    [InlineData("RoundRobin", BalanceAlgorithm.RoundRobin)]
    [InlineData("leastconn", BalanceAlgorithm.LeastConn)]
    [InlineData("SOURCE", BalanceAlgorithm.Source)]
    public void LoadYaml_EnumInAnyCase_Binds(string text, BalanceAlgorithm expected)
    {
        var config = TestConfigs.LoadValid(TestConfigs.Minimal(backendExtra: $"balance: {text}"));

        Assert.Equal(expected, config.Backends[0].Balance);
    }

    [Fact]
    public void LoadYaml_AnchorsAndAliases_Resolve()
    {
        var yaml = """
            frontends:
              web: { listen: "127.0.0.1:8080", default_backend: api }
            backends:
              api:
                servers: [{ name: a, address: "127.0.0.1:9001" }]
                health: &checks { path: /healthz, rise: 5 }
              admin:
                servers: [{ name: a, address: "127.0.0.1:9002" }]
                health: *checks
            """;

        var config = TestConfigs.LoadValid(yaml);

        Assert.Equal(config.Backends[0].Health, config.Backends[1].Health);
        Assert.Equal(5, config.Backends[1].Health!.Rise);
    }

    [Fact]
    public void LoadYaml_Invalid_ReturnsNoConfig()
    {
        var result = TestConfigs.Load("frontends: 3\n");

        Assert.False(result.IsValid);
        Assert.Null(result.Config);
    }

    [Fact]
    public void LoadFile_ExistingFile_NamesFileInErrors()
    {
        using var dir = new TempDirectory();
        var path = dir.File("switchman.yaml");
        File.WriteAllText(path, "backends:\n  api:\n    servers: []\n");

        var result = ConfigLoader.LoadFile(path);

        var error = Assert.Single(result.Errors);
        Assert.Equal($"{path}:3:5 backends.api.servers: a backend needs at least one server", error.ToString());
    }

    [Fact]
    public void LoadFile_MissingFile_ReportsReadError()
    {
        using var dir = new TempDirectory();
        var path = dir.File("absent.yaml");

        var result = ConfigLoader.LoadFile(path);

        var error = Assert.Single(result.Errors);
        Assert.Equal((path, 0, 0, ""), (error.File, error.Line, error.Column, error.Path));
        Assert.StartsWith("cannot read the file: ", error.Message, StringComparison.Ordinal);
        Assert.StartsWith($"{path}: cannot read", error.ToString(), StringComparison.Ordinal);
    }
}
