using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Writing;

namespace Switchman.Core.Tests.Configuration;

/// <summary>The body match (expect_body, expect_body_regex, expect_body_absent) and request headers of HTTP health checks.</summary>
public class HealthCheckConfigTests
{
    [Fact]
    public void Load_BodyMatchAndHeaders_Bound_HeadersInFileOrder()
    {
        var config = TestConfigs.LoadValid(TestConfigs.Minimal(backendExtra:
            "health:\n  path: /v3\n  expect_body_regex: '\"status\": *\"stable\"'\n  expect_body_absent: true\n  headers:\n    X-Check: 1\n    Host: keystone.example\n    User-Agent: probe"));

        var health = config.Backends[0].Health!;
        Assert.Null(health.ExpectBody);
        Assert.Equal("\"status\": *\"stable\"", health.ExpectBodyRegex);
        Assert.True(health.ExpectBodyAbsent);
        Assert.Equal(
            [("X-Check", "1"), ("Host", "keystone.example"), ("User-Agent", "probe")],
            health.Headers.Select(h => (h.Name, h.Value)));
        Assert.Null(health.Host);
        Assert.Equal("keystone.example", health.EffectiveHost);
    }

    [Fact]
    public void Load_NoBodyMatch_DefaultsLeaveEverythingOut()
    {
        var health = TestConfigs.LoadValid(TestConfigs.Minimal(backendExtra: "health:\n  host: api.internal")).Backends[0].Health!;

        Assert.Null(health.ExpectBody);
        Assert.Null(health.ExpectBodyRegex);
        Assert.False(health.ExpectBodyAbsent);
        Assert.Empty(health.Headers);
        Assert.Equal("api.internal", health.EffectiveHost);
    }

    [Theory]
    [InlineData("expect_body: ok\n  expect_body_regex: ok", "backends.api.health.expect_body_regex", "set either expect_body or expect_body_regex, not both")]
    [InlineData("expect_body_regex: '(unclosed'", "backends.api.health.expect_body_regex", "'(unclosed' is not a valid .NET regular expression: ")]
    [InlineData("expect_body_regex: ''", "backends.api.health.expect_body_regex", "must be a regular expression")]
    [InlineData("expect_body: ''", "backends.api.health.expect_body", "must be some text the body contains")]
    [InlineData("expect_body_absent: true", "backends.api.health.expect_body_absent", "needs expect_body or expect_body_regex")]
    [InlineData("expect_body_absent: maybe", "backends.api.health.expect_body_absent", "maybe")]
    [InlineData("headers:\n    'X Check': 1", "backends.api.health.headers.X Check", "'X Check' is not a valid HTTP header name")]
    [InlineData("headers:\n    'X-Check:': 1", "backends.api.health.headers.X-Check:", "'X-Check:' is not a valid HTTP header name")]
    [InlineData("headers:\n    X-Check: \"a\\r\\nX-Evil: 1\"", "backends.api.health.headers.X-Check", "a header value cannot contain CR, LF or NUL")]
    [InlineData("headers:\n    X-Check: 1\n    x-check: 2", "backends.api.health.headers.x-check", "'x-check' is given twice")]
    [InlineData("headers:\n    Content-Length: 5", "backends.api.health.headers.Content-Length", "'Content-Length' is set by the check itself")]
    [InlineData("headers:\n    connection: close", "backends.api.health.headers.connection", "'connection' is set by the check itself")]
    [InlineData("host: a.example\n  headers:\n    Host: b.example", "backends.api.health.headers.Host", "the Host header is set twice: by host and by headers.Host; keep one")]
    [InlineData("headers: [X-Check]", "backends.api.health.headers", "expected a map, not a list")]
    [InlineData("type: tcp\n  expect_body: ok", "backends.api.health.expect_body", "applies to http checks only")]
    [InlineData("type: tcp\n  headers: { X-Check: 1 }", "backends.api.health.headers", "applies to http checks only")]
    public void Load_BadBodyMatchOrHeaders_OneErrorNamingTheField(string healthExtra, string path, string message)
    {
        TestConfigs.SingleErrorAt(TestConfigs.Minimal(backendExtra: "health:\n  " + healthExtra), path, message);
    }

    [Fact]
    public void Load_BadRegex_ErrorPointsAtItsLine()
    {
        // Line 13 is "health:" in the minimal file; the pattern is on the line after the path.
        var yaml = TestConfigs.Minimal(backendExtra: "health:\n  path: /v3\n  expect_body_regex: '[a-'");

        var error = TestConfigs.SingleError(yaml, 15, 7, "backends.api.health.expect_body_regex", "is not a valid .NET regular expression");

        Assert.Contains("test.yaml:15:7 backends.api.health.expect_body_regex: '[a-' is not a valid .NET regular expression", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_BadHeaderName_ErrorPointsAtTheHeader()
    {
        var yaml = TestConfigs.Minimal(backendExtra: "health:\n  headers:\n    X-Check: 1\n    'Bad Name': 2");

        TestConfigs.SingleError(yaml, 16, 9, "backends.api.health.headers.Bad Name", "'Bad Name' is not a valid HTTP header name");
    }

    [Fact]
    public void Writer_BodyMatchAndHeaders_RoundTripInYamlAndJson()
    {
        var config = TestConfigs.LoadValid(TestConfigs.Minimal(backendExtra:
            "health:\n  expect_body: 'say \"ok\"'\n  expect_body_absent: true\n  headers:\n    Host: keystone.example\n    X-Check: '1'\n    X-Empty: ''"));

        var yaml = ConfigWriter.ToYaml(config);

        Assert.Equal(config, TestConfigs.LoadValid(yaml));
        Assert.Equal(config, TestConfigs.LoadValid(ConfigWriter.ToJson(config)));
        Assert.Contains("expect_body_absent: true", yaml, StringComparison.Ordinal);
        Assert.Contains("X-Check:", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void Writer_Regex_RoundTrips_AndDefaultsStayOut()
    {
        var config = TestConfigs.LoadValid(TestConfigs.Minimal(backendExtra: "health:\n  expect_body_regex: '^\\{.*\"v3\\.\\d+\"'"));

        var yaml = ConfigWriter.ToYaml(config);

        Assert.Equal(config, TestConfigs.LoadValid(yaml));
        Assert.Equal(config, TestConfigs.LoadValid(ConfigWriter.ToJson(config)));
        Assert.DoesNotContain("expect_body_absent", yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("headers", yaml, StringComparison.Ordinal);
    }
}
