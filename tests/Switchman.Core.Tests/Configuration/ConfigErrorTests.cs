using Switchman.Core.Configuration;

namespace Switchman.Core.Tests.Configuration;

/// <summary>Binding errors: each kind is reported with its file, line, column, field path and an actionable message.</summary>
public class ConfigErrorTests
{
    [Fact]
    public void ToString_WithPosition_IsFileLineColumnPathMessage()
    {
        var error = new ConfigError("switchman.yaml", 14, 7, "backends.api.health.rise", "must be ≥ 1");

        Assert.Equal("switchman.yaml:14:7 backends.api.health.rise: must be ≥ 1", error.ToString());
    }

    [Fact]
    public void ToString_WithoutPositionOrPath_LeavesThemOut()
    {
        Assert.Equal("x.yaml admin.listen: bad", new ConfigError("x.yaml", 0, 0, "admin.listen", "bad").ToString());
        Assert.Equal("x.yaml:3:5: bad", new ConfigError("x.yaml", 3, 5, "", "bad").ToString());
    }

    [Fact]
    public void LoadYaml_SyntaxError_ReportsParserPosition()
    {
        var yaml = """
            frontends:
              web:
                listen: 127.0.0.1:8080
               default_backend: api
            """;

        var error = TestConfigs.SingleError(yaml, 4, 4, "", "did not find expected key");

        Assert.Equal("test.yaml:4:4: While parsing a block mapping, did not find expected key.", error.ToString());
    }

    [Theory]
    [InlineData("a:\n : b\n", 3, 1)]
    [InlineData("frontends:\n  web:\n    listen: 127.0.0.1:1\n {   default_backend: api\nbackends: {}\n", 4, 2)]
    public void LoadYaml_InputYamlDotNetFailsOnWithoutPosition_ReportsLastParsedPosition(string yaml, int line, int column)
    {
        TestConfigs.SingleError(yaml, line, column, "", "malformed YAML after this point");
    }

    [Fact]
    public void LoadYaml_UnclosedFlowList_ReportsSyntaxError()
    {
        TestConfigs.SingleError("backends:\n  api:\n    servers: [\n", 4, 1, "", "did not find expected");
    }

    [Fact]
    public void LoadYaml_UnknownKeyCloseToKnownOne_SuggestsIt()
    {
        var yaml = TestConfigs.Minimal(backendExtra: "retry:\n  retires: 3");

        var error = TestConfigs.SingleError(yaml, 14, 7, "backends.api.retry.retires", "unknown key 'retires'");

        Assert.EndsWith("did you mean 'retries'?", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("clientIdle: 5s", "client_idle")]
    [InlineData("ClientIdle: 5s", "client_idle")]
    [InlineData("client-idle: 5s", "client_idle")]
    [InlineData("requst_headers: 5s", "request_headers")]
    public void LoadYaml_KeyInOtherSpelling_SuggestsSnakeCase(string line, string suggestion)
    {
        var yaml = TestConfigs.Minimal(frontendExtra: "timeouts:\n  " + line);

        var error = TestConfigs.SingleErrorAt(yaml, "frontends.web.timeouts." + line.Split(':')[0], "unknown key");

        Assert.EndsWith($"did you mean '{suggestion}'?", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_UnknownKeyFarFromAny_ListsKnownKeys()
    {
        var error = TestConfigs.SingleError("admin:\n  bind: 127.0.0.1:9090\n", 2, 3, "admin.bind", "unknown key 'bind'");

        Assert.EndsWith("known keys here: listen, tokens, tls", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_UnknownTopLevelKey_IsReported()
    {
        TestConfigs.SingleError("backend:\n  api: {}\n", 1, 1, "backend", "did you mean 'backends'?");
    }

    [Theory]
    [InlineData("slow_start: 10", "backends.api.slow_start", "'10' has no unit; write a duration such as 500ms, 2s, 1m, 1h or 1m30s")]
    [InlineData("slow_start: 10 s", "backends.api.slow_start", "expected a duration such as 500ms, 2s, 1m, 1h or 1m30s, not '10 s'")]
    [InlineData("slow_start: [1s]", "backends.api.slow_start", "expected a duration, not a list")]
    [InlineData("health:\n  rise: two", "backends.api.health.rise", "expected a whole number, not 'two'")]
    [InlineData("health:\n  rise: 2.5", "backends.api.health.rise", "expected a whole number, not '2.5'")]
    [InlineData("health: yes", "backends.api.health", "expected a map, not 'yes'")]
    [InlineData("health: [a]", "backends.api.health", "expected a map, not a list")]
    [InlineData("retry:\n  on_status: { a: 1 }", "backends.api.retry.on_status", "expected a list, not a map")]
    [InlineData("retry:\n  on_status: [502, bad]", "backends.api.retry.on_status[1]", "expected a whole number, not 'bad'")]
    [InlineData("retry:\n  buffer_body: 64KB", "backends.api.retry.buffer_body", "expected a size such as 65536 (bytes), 64KiB, 1MiB, 64k or 1m, not '64KB'")]
    [InlineData("health:\n  expect_status: [ok]", "backends.api.health.expect_status[0]", "expected a status code like 200 or a range like 200-399, not 'ok'")]
    [InlineData("sticky:\n  cookie: { name: x }", "backends.api.sticky.cookie", "expected a string, not a map")]
    public void LoadYaml_WrongType_NamesExpectedType(string backendExtra, string path, string message)
    {
        var error = TestConfigs.SingleErrorAt(TestConfigs.Minimal(backendExtra: backendExtra), path, message);

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void LoadYaml_WrongBool_PointsAtKey()
    {
        var yaml = """
            backends:
              api:
                servers:
                  - name: a
                    address: 127.0.0.1:9001
                    backup: maybe
            """;

        TestConfigs.SingleError(yaml, 6, 9, "backends.api.servers[0].backup", "expected true or false, not 'maybe'");
    }

    [Fact]
    public void LoadYaml_ServersNotAList_IsReported()
    {
        TestConfigs.SingleError("backends:\n  api:\n    servers:\n      a: 127.0.0.1:1\n", 3, 5, "backends.api.servers", "expected a list, not a map");
    }

    [Fact]
    public void LoadYaml_ServerItemNotAMap_PointsAtItem()
    {
        var yaml = """
            backends:
              api:
                servers:
                  - name: a
                    address: 127.0.0.1:9001
                  - 127.0.0.1:9002
            """;

        TestConfigs.SingleError(yaml, 6, 9, "backends.api.servers[1]", "expected a map, not '127.0.0.1:9002'");
    }

    [Theory]
    [InlineData("backends:\n  api:\n    servers:\n      - name: a\n", 4, 9, "backends.api.servers[0]", "address")]
    [InlineData("backends:\n  api:\n    servers:\n      - address: 127.0.0.1:1\n", 4, 9, "backends.api.servers[0]", "name")]
    [InlineData("frontends:\n  web:\n    default_backend: x\nbackends:\n  x:\n    servers: [{name: a, address: '127.0.0.1:1'}]\n", 2, 3, "frontends.web", "listen")]
    [InlineData("frontends:\n  web:\n", 2, 3, "frontends.web", "listen")]
    [InlineData("frontends:\n  web:\n    listen: 127.0.0.1:1\n    routes:\n      - path: /\n", 5, 9, "frontends.web.routes[0]", "backend")]
    [InlineData("frontends:\n  web:\n    listen: 127.0.0.1:1\n    default_backend: x\n    tls:\n      certificates:\n        - key: k.pem\n", 7, 11, "frontends.web.tls.certificates[0]", "cert")]
    public void LoadYaml_MissingRequiredKey_PointsAtParentMap(string yaml, int line, int column, string path, string key)
    {
        var result = TestConfigs.Load(yaml);

        Assert.Contains(result.Errors, e => (e.Line, e.Column, e.Path, e.Message) == (line, column, path, $"missing required key '{key}'"));
        Assert.DoesNotContain(result.Errors, e => e.Path == $"{path}.{key}");
    }

    [Fact]
    public void LoadYaml_RequiredKeyWrittenAsNothing_IsMissing()
    {
        TestConfigs.SingleError("backends:\n  api:\n    servers:\n      - name: a\n        address:\n", 4, 9, "backends.api.servers[0]", "missing required key 'address'");
    }

    [Theory]
    [InlineData("listen: ''", "frontends.web.listen")]
    [InlineData("listen: [127.0.0.1:1]", "frontends.web.listen")]
    public void LoadYaml_RequiredKeyEmptyOrWrongType_ReportedOnceAtKey(string listen, string path)
    {
        var yaml = $"frontends:\n  web:\n    {listen}\n    default_backend: api\nbackends:\n  api:\n    servers: [{{ name: a, address: '127.0.0.1:1' }}]\n";

        var error = TestConfigs.SingleError(yaml, 3, 5, path, "");

        Assert.True(error.Message is "must not be empty" or "expected a string, not a list", error.Message);
    }

    [Theory]
    [InlineData("balance: fastest", "backends.api.balance", "'fastest' is not one of: roundrobin, leastconn, random, source, uri")]
    [InlineData("health:\n  type: udp", "backends.api.health.type", "'udp' is not one of: http, tcp")]
    [InlineData("health:\n  initial: maybe", "backends.api.health.initial", "'maybe' is not one of: up, down")]
    public void LoadYaml_InvalidEnum_ListsAllowedValues(string backendExtra, string path, string message)
    {
        var error = TestConfigs.SingleErrorAt(TestConfigs.Minimal(backendExtra: backendExtra), path, message);

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void LoadYaml_InvalidServerState_ListsAllowedValues()
    {
        var yaml = "backends:\n  api:\n    servers:\n      - { name: a, address: '127.0.0.1:1', state: down }\n";

        TestConfigs.SingleError(yaml, 4, 44, "backends.api.servers[0].state", "'down' is not one of: ready, drain, maint");
    }

    [Fact]
    public void LoadYaml_InvalidProtocol_PointsAtListItem()
    {
        var yaml = TestConfigs.Minimal(frontendExtra: "protocols:\n  - http1\n  - http3");

        TestConfigs.SingleError(yaml, 7, 9, "frontends.web.protocols[1]", "'http3' is not one of: http1, http2");
    }

    [Fact]
    public void LoadYaml_DuplicateKey_ReportsSecondAndKeepsFirst()
    {
        var yaml = """
            frontends:
              web:
                listen: 127.0.0.1:8080
                default_backend: api
                listen: 127.0.0.1:8081
            backends:
              api:
                servers: [{ name: a, address: "127.0.0.1:1" }]
            """;

        var error = TestConfigs.SingleError(yaml, 5, 5, "frontends.web.listen", "duplicate key 'listen' (first written on line 3)");

        Assert.Equal("test.yaml:5:5 frontends.web.listen: duplicate key 'listen' (first written on line 3)", error.ToString());
    }

    [Fact]
    public void LoadYaml_DuplicateNamedSections_ReportsEachAndGoesOn()
    {
        var yaml = """
            backends:
              api:
                servers: [{ name: a, address: "127.0.0.1:1" }]
              api:
                servers:
                  - name: b
                    address: 127.0.0.1:2
                  - name: c
                    address: 127.0.0.1:3
                    weight: 1
                    weight: 2
              other:
                servers: []
            """;

        var result = TestConfigs.Load(yaml);

        Assert.Equal(
            [
                "test.yaml:4:3 backends.api: duplicate key 'api' (first written on line 2)",
                "test.yaml:13:5 backends.other.servers: a backend needs at least one server",
            ],
            result.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void LoadYaml_DuplicateTopLevelKey_IsReported()
    {
        TestConfigs.SingleError("admin: {}\naccess_log: stdout\nadmin:\n  listen: 127.0.0.1:1\n", 3, 1, "admin", "duplicate key 'admin' (first written on line 1)");
    }

    [Fact]
    public void LoadYaml_DuplicateKeyInListItem_PathNamesTheItem()
    {
        var yaml = """
            backends:
              api:
                servers:
                  - name: a
                    address: 127.0.0.1:1
                  - name: b
                    address: 127.0.0.1:2
                    weight: 1
                    weight: 2
            """;

        TestConfigs.SingleError(yaml, 9, 9, "backends.api.servers[1].weight", "duplicate key 'weight' (first written on line 8)");
    }

    [Fact]
    public void LoadYaml_SecondDocument_IsReported()
    {
        TestConfigs.SingleError("admin:\n  listen: 127.0.0.1:9090\n---\nadmin: {}\n", 4, 1, "", "one YAML document");
    }

    [Fact]
    public void LoadYaml_RootIsAList_IsReported()
    {
        TestConfigs.SingleError("- a\n- b\n", 1, 1, "", "expected a map, not a list");
    }

    [Fact]
    public void LoadYaml_ManyMistakes_ReportsEveryOneInFileOrder()
    {
        var yaml = """
            admin:
              listen: 127.0.0.1:8080
            frontends:
              web:
                listen: 127.0.0.1:8080
                routes:
                  - path: v2
                    backend: nope
                timeout:
                  client_idle: 5s
            backends:
              api:
                balance: fastest
                servers:
                  - name: a
                    address: 127.0.0.1
                  - name: a
                    address: 127.0.0.1:9002
                    weight: 300
                health:
                  rise: 0
                  interval: 5
                retry:
                  retries: 11
            """;

        var result = TestConfigs.Load(yaml);

        Assert.Equal(
            [
                "test.yaml:2:3 admin.listen: 127.0.0.1:8080 collides with frontend 'web', which listens on 127.0.0.1:8080",
                "test.yaml:7:9 frontends.web.routes[0].path: 'v2' must start with '/'",
                "test.yaml:8:9 frontends.web.routes[0].backend: backend 'nope' does not exist; defined backends: api",
                "test.yaml:9:5 frontends.web.timeout: unknown key 'timeout'; did you mean 'timeouts'?",
                "test.yaml:13:5 backends.api.balance: 'fastest' is not one of: roundrobin, leastconn, random, source, uri",
                "test.yaml:16:9 backends.api.servers[0].address: '127.0.0.1' is not host:port (write IPv6 addresses as [addr]:port)",
                "test.yaml:17:9 backends.api.servers[1].name: server name 'a' is already used by servers[0]",
                "test.yaml:19:9 backends.api.servers[1].weight: must be from 0 to 256",
                "test.yaml:21:7 backends.api.health.rise: must be ≥ 1",
                "test.yaml:22:7 backends.api.health.interval: '5' has no unit; write a duration such as 500ms, 2s, 1m, 1h or 1m30s",
                "test.yaml:24:7 backends.api.retry.retries: must be from 0 to 10",
            ],
            result.Errors.Select(e => e.ToString()));
    }
}
