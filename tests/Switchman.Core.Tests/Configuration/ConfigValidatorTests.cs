using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Validation;

namespace Switchman.Core.Tests.Configuration;

/// <summary>Validation rules, each checked on an otherwise valid configuration with one field broken.</summary>
public class ConfigValidatorTests
{
    [Theory]
    [InlineData("balance: random\nslow_start: 0", "")]
    [InlineData("retry:\n  retries: 0\n  buffer_body: 0", "")]
    [InlineData("retry:\n  retries: 10\n  on_status: [429, 502, 599]", "")]
    [InlineData("health:\n  method: OPTIONS\n  expect_status: [200, 300-399]\n  rise: 1\n  fall: 1\n  interval: 10s\n  timeout: 20s", "")]
    [InlineData("health:\n  type: tcp\n  path: ignored-for-tcp", "")]
    public void Validate_BoundaryValues_AreAccepted(string backendExtra, string frontendExtra)
    {
        TestConfigs.LoadValid(TestConfigs.Minimal(backendExtra, frontendExtra));
    }

    [Theory]
    [InlineData("{ name: c, address: '127.0.0.1:9003', weight: 0 }")]
    [InlineData("{ name: c, address: '127.0.0.1:9003', weight: 256 }")]
    [InlineData("{ name: c.example.com, address: 'c.example.com:443', backup: true }")]
    public void Validate_ServerBoundaryValues_AreAccepted(string server)
    {
        TestConfigs.LoadValid(TestConfigs.MinimalWithServer(server));
    }

    [Theory]
    [InlineData("{ name: c, address: '127.0.0.1:9003', weight: 257 }", "weight", "must be from 0 to 256")]
    [InlineData("{ name: c, address: '127.0.0.1:9003', weight: -1 }", "weight", "must be from 0 to 256")]
    [InlineData("{ name: c, address: '127.0.0.1:0' }", "address", "'127.0.0.1:0' needs a port from 1 to 65535")]
    [InlineData("{ name: c, address: '*:80' }", "address", "must name a host or IP address, not *")]
    [InlineData("{ name: c, address: 'localhost' }", "address", "'localhost' is not host:port")]
    [InlineData("{ name: 'c/d', address: '127.0.0.1:1' }", "name", "'c/d' is not a valid name; use letters, digits")]
    [InlineData("{ name: 'c" + "0123456789012345678901234567890123456789012345678901234567890123" + "', address: '127.0.0.1:1' }", "name",
        "'c0123456789012345678…' is 65 characters long; a name has at most 64")]
    public void Validate_ServerValueWrong_IsReported(string server, string field, string message)
    {
        var error = TestConfigs.SingleErrorAt(TestConfigs.MinimalWithServer(server), "backends.api.servers[0]." + field, message);

        Assert.Equal(9, error.Line);
    }

    [Fact]
    public void Validate_DuplicateServerName_PointsAtSecondServer()
    {
        var error = TestConfigs.SingleErrorAt(TestConfigs.MinimalWithServer("{ name: b, address: '127.0.0.1:9003' }"), "backends.api.servers[2].name", "server name 'b' is already used by servers[0]");

        Assert.Equal((12, 9), (error.Line, error.Column));
    }

    [Theory]
    [InlineData("health:\n  rise: 0", "backends.api.health.rise", "must be ≥ 1")]
    [InlineData("health:\n  fall: 0", "backends.api.health.fall", "must be ≥ 1")]
    [InlineData("health:\n  interval: 0s", "backends.api.health.interval", "must be greater than 0")]
    [InlineData("health:\n  fast_interval: 0ms", "backends.api.health.fast_interval", "must be greater than 0")]
    [InlineData("health:\n  down_interval: 0", "backends.api.health.down_interval", "must be greater than 0")]
    [InlineData("health:\n  timeout: 0s", "backends.api.health.timeout", "must be greater than 0")]
    [InlineData("health:\n  path: healthz", "backends.api.health.path", "'healthz' must start with '/'")]
    [InlineData("health:\n  method: GE T", "backends.api.health.method", "'GE T' is not a valid HTTP method")]
    [InlineData("health:\n  expect_status: 99", "backends.api.health.expect_status[0]", "'99' must be a status from 100 to 599")]
    [InlineData("health:\n  expect_status: [399-200]", "backends.api.health.expect_status[0]", "'399-200' must be a status from 100 to 599 or a range low-high")]
    [InlineData("health:\n  expect_status: []", "backends.api.health.expect_status", "needs at least one status or range")]
    [InlineData("passive:\n  consecutive_failures: 0", "backends.api.passive.consecutive_failures", "must be ≥ 1")]
    [InlineData("passive:\n  eject_for: 0s", "backends.api.passive.eject_for", "must be greater than 0")]
    [InlineData("retry:\n  retries: 11", "backends.api.retry.retries", "must be from 0 to 10")]
    [InlineData("retry:\n  retries: -1", "backends.api.retry.retries", "must be from 0 to 10")]
    [InlineData("retry:\n  on_status: [502, 200]", "backends.api.retry.on_status[1]", "200 is not an error status; retry on statuses from 400 to 599")]
    [InlineData("timeouts:\n  connect: 0s", "backends.api.timeouts.connect", "must be greater than 0")]
    [InlineData("timeouts:\n  per_try: 0s", "backends.api.timeouts.per_try", "must be greater than 0")]
    [InlineData("timeouts:\n  total: 0s", "backends.api.timeouts.total", "must be greater than 0")]
    [InlineData("sticky:\n  cookie: 'a b'", "backends.api.sticky.cookie", "'a b' is not a valid cookie name")]
    public void Validate_BackendValueOutOfRange_IsReported(string backendExtra, string path, string message)
    {
        TestConfigs.SingleErrorAt(TestConfigs.Minimal(backendExtra: backendExtra), path, message);
    }

    [Theory]
    [InlineData("protocols: []", "frontends.web.protocols", "needs at least one protocol: http1, http2")]
    [InlineData("timeouts:\n  client_idle: 0s", "frontends.web.timeouts.client_idle", "must be greater than 0")]
    [InlineData("timeouts:\n  request_headers: 0s", "frontends.web.timeouts.request_headers", "must be greater than 0")]
    [InlineData("routes:\n  - { path: api, backend: api }", "frontends.web.routes[0].path", "'api' must start with '/'")]
    [InlineData("routes:\n  - { host: 'api.*', backend: api }", "frontends.web.routes[0].host", "'api.*' must be a host name like api.example.com or a wildcard like *.example.com")]
    [InlineData("routes:\n  - { host: 'http://api', backend: api }", "frontends.web.routes[0].host", "must be a host name")]
    [InlineData("routes:\n  - { path: /, backend: apii }", "frontends.web.routes[0].backend", "backend 'apii' does not exist; defined backends: api")]
    [InlineData("tls: {}", "frontends.web.tls.certificates", "TLS needs at least one certificate")]
    public void Validate_FrontendValueWrong_IsReported(string frontendExtra, string path, string message)
    {
        TestConfigs.SingleErrorAt(TestConfigs.Minimal(frontendExtra: frontendExtra), path, message);
    }

    [Theory]
    [InlineData("127.0.0.1", "'127.0.0.1' is not host:port")]
    [InlineData("127.0.0.1:70000", "port '70000' must be a number from 0 to 65535")]
    [InlineData("example.com:80", "'example.com' is not a local address; listen on an IP address, * or localhost")]
    public void Validate_BadListenAddress_IsReported(string listen, string message)
    {
        var yaml = $"frontends:\n  web:\n    listen: {listen}\n    default_backend: api\nbackends:\n  api:\n    servers: [{{ name: a, address: '127.0.0.1:1' }}]\n";

        TestConfigs.SingleError(yaml, 3, 5, "frontends.web.listen", message);
    }

    [Theory]
    [InlineData("127.0.0.1:8080", "127.0.0.1:8080", true)]
    [InlineData("0.0.0.0:8080", "127.0.0.1:8080", true)]
    [InlineData("*:8080", "[::1]:8080", true)]
    [InlineData("[::]:8080", "10.0.0.1:8080", true)]
    [InlineData("localhost:8080", "[::1]:8080", true)]
    [InlineData("[0:0:0:0:0:0:0:1]:8080", "[::1]:8080", true)]
    [InlineData("127.0.0.1:8080", "127.0.0.2:8080", false)]
    [InlineData("127.0.0.1:8080", "127.0.0.1:8081", false)]
    [InlineData("127.0.0.1:0", "127.0.0.1:0", false)]
    public void Validate_TwoFrontendListens_CollideWhenTheyShareAnAddressAndPort(string first, string second, bool collide)
    {
        var yaml = $"""
            frontends:
              one: {"{"} listen: "{first}", default_backend: api {"}"}
              two: {"{"} listen: "{second}", default_backend: api {"}"}
            backends:
              api:
                servers: [{"{"} name: a, address: "127.0.0.1:1" {"}"}]
            """;

        var result = TestConfigs.Load(yaml);

        if (collide)
        {
            var error = Assert.Single(result.Errors);
            Assert.Equal("frontends.two.listen", error.Path);
            Assert.Equal($"{HostPort.Parse(second)} collides with frontend 'one', which listens on {HostPort.Parse(first)}", error.Message);
        }
        else
        {
            Assert.Empty(result.Errors);
        }
    }

    [Fact]
    public void Validate_AdminListenOnFrontendAddress_IsReported()
    {
        var yaml = "admin:\n  listen: '*:8080'\n" + TestConfigs.Minimal();

        TestConfigs.SingleError(yaml, 2, 3, "admin.listen", "*:8080 collides with frontend 'web', which listens on 127.0.0.1:8080");
    }

    [Fact]
    public void Validate_AdminListenNotAnAddress_IsReported()
    {
        TestConfigs.SingleError("admin:\n  listen: 9090\n", 2, 3, "admin.listen", "'9090' is not host:port");
    }

    [Fact]
    public void Validate_BackendWithoutServersKey_PointsAtNearestWrittenKey()
    {
        // servers was never written, so the error points at the backend's key.
        TestConfigs.SingleError("backends:\n  api: {}\n", 2, 3, "backends.api.servers", "a backend needs at least one server");
    }

    [Fact]
    public void Validate_FrontendWithoutRoutesOrDefault_IsReported()
    {
        TestConfigs.SingleError("frontends:\n  web:\n    listen: 127.0.0.1:8080\n", 2, 3, "frontends.web", "has neither routes nor a default_backend");
    }

    [Fact]
    public void Validate_UnknownDefaultBackend_ListsDefinedBackends()
    {
        var yaml = TestConfigs.Minimal().Replace("default_backend: api", "default_backend: web", StringComparison.Ordinal);

        TestConfigs.SingleError(yaml, 4, 5, "frontends.web.default_backend", "backend 'web' does not exist; defined backends: api");
    }

    [Fact]
    public void Validate_RouteToBackendWhenNoneDefined_SaysSo()
    {
        var yaml = "frontends:\n  web:\n    listen: 127.0.0.1:8080\n    routes:\n      - backend: api\n";

        TestConfigs.SingleError(yaml, 5, 9, "frontends.web.routes[0].backend", "backend 'api' does not exist; no backends are defined");
    }

    [Fact]
    public void Validate_InvalidName_IsReported()
    {
        var yaml = TestConfigs.Minimal().Replace("  api:", "  'api/v2':", StringComparison.Ordinal).Replace("default_backend: api", "default_backend: api/v2", StringComparison.Ordinal);

        TestConfigs.SingleError(yaml, 7, 3, "backends.api/v2", "'api/v2' is not a valid name; use letters, digits, '-', '_' and '.'");
    }

    [Fact]
    public void Validate_ConfigBuiltInCode_ReportsPathsWithoutPositions()
    {
        var config = new SwitchmanConfig
        {
            Backends = ValueList.Create(new BackendConfig
            {
                Name = "api",
                Servers = ValueList.Create(new ServerConfig { Name = "a", Address = "127.0.0.1:1" }),
                Health = new HealthCheckConfig { Rise = 0 },
                Retry = new RetryConfig { BufferBody = -1 },
                SlowStart = TimeSpan.FromSeconds(-1),
            }),
        };

        var errors = ConfigValidator.Validate(config, "api-request");

        Assert.Equal(
            [
                "api-request backends.api.health.rise: must be ≥ 1",
                "api-request backends.api.retry.buffer_body: must not be negative",
                "api-request backends.api.slow_start: must not be negative",
            ],
            errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Validate_EmptyRequiredValuesBuiltInCode_AreReported()
    {
        var config = new SwitchmanConfig
        {
            Frontends = ValueList.Create(new FrontendConfig { Name = "web", Listen = "", Routes = ValueList.Create(new RouteConfig { Backend = "" }) }),
            Backends = ValueList.Create(new BackendConfig { Name = "api", Servers = ValueList.Create(new ServerConfig { Name = "", Address = "" }) }),
        };

        var errors = ConfigValidator.Validate(config, "code");

        Assert.Equal(
            [
                "frontends.web.listen",
                "frontends.web.routes[0].backend",
                "backends.api.servers[0].name",
                "backends.api.servers[0].address",
            ],
            errors.Select(e => e.Path));
    }

    [Fact]
    public void Validate_ValidConfigBuiltInCode_HasNoErrors()
    {
        Assert.Empty(ConfigValidator.Validate(new SwitchmanConfig(), "code"));
    }
}
